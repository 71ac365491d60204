// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarket} from "../../interfaces/IMarket.sol";
import {BPS, MarketMath} from "./MarketIds.sol";
import {AllowanceId} from "./AllowanceId.sol";
import {OrderBook} from "./OrderBook.sol";

/// @title MarketParams
/// @notice The market-wide parameters, packed into one slot with the pause flag (an external library, linked).
library MarketParams {
    /// @dev `IMarket.Params` packed into one slot, with the pause flag.
    struct Packed {
        uint16 feeBps;
        uint16 bandBps;
        uint16 blockBandBps;
        uint32 blockMinLots;
        uint32 lowestTierMaxLots;
        uint8 blockMinTier;
        uint64 discounts;
        bool paused;
        uint8 callMinTraders;
    }

    /// @notice Store the parameters a new market starts with (its constructor's or its proxy's initializer).
    function setDefaults(Packed storage s) public {
        s.feeBps = 20;
        s.bandBps = 1_000;
        s.blockBandBps = 3_000;
        s.blockMinLots = 100;
        s.lowestTierMaxLots = 1_000;
        s.blockMinTier = 1;
        s.discounts = packDiscounts([uint16(0), 1_000, 2_500, 5_000]);
        s.paused = false;
        s.callMinTraders = 2;
    }

    /// @notice Pause or resume trading; emits `PausedChanged` with the caller (a library call keeps `msg.sender`).
    function setPaused(Packed storage s, bool paused) public {
        s.paused = paused;
        emit IMarket.PausedChanged(paused, msg.sender);
    }

    /// @notice Set an instrument's position limit (units an investor may hold); emits `PositionLimitChanged`.
    function setPositionLimit(OrderBook.Book storage book, uint32 id, uint64 units) public {
        emit IMarket.PositionLimitChanged(id, book.positionLimit, units);
        book.positionLimit = units;
    }

    /// @notice Turn an instrument's T+1 rule on or off; emits `TPlusOneChanged`.
    function setTPlusOne(IMarket.Instrument storage ins, uint32 id, bool on) public {
        ins.tPlusOne = on;
        emit IMarket.TPlusOneChanged(id, on);
    }

    /// @notice Validate and store new parameters; emits `ParamsChanged` with the old and new values.
    function update(Packed storage s, IMarket.Params calldata next) public {
        if (next.feeBps > 1_000) revert IMarket.Market__BadParam("feeBps", next.feeBps);
        if (next.bandBps == 0 || next.bandBps > 5_000) revert IMarket.Market__BadParam("bandBps", next.bandBps);
        if (next.blockBandBps < next.bandBps || next.blockBandBps > 9_000) {
            revert IMarket.Market__BadParam("blockBandBps", next.blockBandBps);
        }
        for (uint256 i; i < 4; ++i) {
            if (next.tierDiscountBps[i] > BPS) revert IMarket.Market__BadParam("tierDiscountBps", next.tierDiscountBps[i]);
        }
        IMarket.Params memory previous = unpack(s);
        s.feeBps = next.feeBps;
        s.bandBps = next.bandBps;
        s.blockBandBps = next.blockBandBps;
        s.blockMinLots = next.blockMinLots;
        s.lowestTierMaxLots = next.lowestTierMaxLots;
        s.blockMinTier = next.blockMinTier;
        s.discounts = packDiscounts(next.tierDiscountBps);
        s.callMinTraders = next.callMinTraders;
        emit IMarket.ParamsChanged(previous, next);
    }

    /// @notice Check a listing and record instrument `id` (the next number); emits `InstrumentListed`.
    function list(
        mapping(uint32 => IMarket.Instrument) storage instruments,
        mapping(uint256 => uint32) storage listed,
        uint32 id,
        uint256 tokenId,
        uint64 lotSize,
        uint64 tickSize,
        uint64 referencePrice
    ) public returns (uint32) {
        if (!AllowanceId.isValid(tokenId) || listed[tokenId] != 0) revert IMarket.Market__BadListing(tokenId);
        if (
            lotSize == 0 || tickSize == 0 || referencePrice == 0 || referencePrice % tickSize != 0
                || referencePrice / tickSize > type(uint24).max
        ) revert IMarket.Market__BadGrid(lotSize, tickSize, referencePrice);
        listed[tokenId] = id;
        uint24 refTick = uint24(referencePrice / tickSize);
        instruments[id] = IMarket.Instrument({
            tokenId: tokenId, lotSize: lotSize, tickSize: tickSize, referenceTick: refTick, lastTick: refTick,
            day: MarketMath.tradingDay(block.timestamp), phase: IMarket.Phase.Continuous, round: 1,
            tPlusOne: false
        });
        emit IMarket.InstrumentListed(id, tokenId, lotSize, tickSize, refTick);
        return id;
    }

    /// @notice The parameters as `IMarket.Params`.
    function unpack(Packed memory p) public pure returns (IMarket.Params memory out) {
        out.feeBps = p.feeBps;
        out.bandBps = p.bandBps;
        out.blockBandBps = p.blockBandBps;
        out.blockMinLots = p.blockMinLots;
        out.lowestTierMaxLots = p.lowestTierMaxLots;
        out.blockMinTier = p.blockMinTier;
        out.callMinTraders = p.callMinTraders;
        for (uint256 i; i < 4; ++i) {
            out.tierDiscountBps[i] = uint16(p.discounts >> (16 * i));
        }
    }

    /// @notice The fee rate of a participant of credit tier `tier`: the base fee less the tier's discount.
    function feeRate(Packed memory p, uint8 tier) internal pure returns (uint16) {
        uint256 discount = uint16(p.discounts >> (16 * (tier > 3 ? 3 : tier)));
        return uint16(uint256(p.feeBps) * (BPS - discount) / BPS);
    }

    function packDiscounts(uint16[4] memory d) internal pure returns (uint64) {
        return uint64(d[0]) | (uint64(d[1]) << 16) | (uint64(d[2]) << 32) | (uint64(d[3]) << 48);
    }
}
