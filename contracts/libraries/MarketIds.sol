// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarket} from "../../interfaces/IMarket.sol";

/// @dev Basis points in a whole.
uint256 constant BPS = 10_000;
/// @dev Order flag: the order left the book because its owner was not active when a taker met it.
uint8 constant ORDER_SUSPENDED = 1;
/// @dev Order flag: the order counts towards its owner's open buy lots (a position-limited investor).
uint8 constant ORDER_TRACKED = 2;

/// @title MarketIds
/// @notice Order ids that say where an order is. An order id is `levelKey << 32 | position in the level's queue`,
/// and a level key is `call << 89 | instrument << 57 | round << 25 | side << 24 | tick`: continuous orders have
/// `call = 0` and `round = 0`. Reading an id needs no storage.
library MarketIds {
    uint256 private constant _CALL_BIT = 89;

    function levelKey(bool call, uint32 instrument, uint32 round, IMarket.Side side, uint24 tick)
        internal
        pure
        returns (uint256)
    {
        return (call ? uint256(1) << _CALL_BIT : 0) | (uint256(instrument) << 57) | (uint256(round) << 25)
            | (uint256(uint8(side)) << 24) | tick;
    }

    /// @notice The key of a call auction's price level (both sides share it).
    function callLevelKey(uint32 instrument, uint32 round, uint24 tick) internal pure returns (uint256) {
        return levelKey(true, instrument, round, IMarket.Side.Buy, tick);
    }

    function auctionKey(uint32 instrument, uint32 round) internal pure returns (uint256) {
        return (uint256(instrument) << 32) | round;
    }

    /// @notice The bitmap of one side of an instrument's continuous book.
    function bookBase(uint32 instrument, IMarket.Side side) internal pure returns (uint256) {
        return (uint256(instrument) << 1) | uint8(side);
    }

    /// @notice The bitmap of the prices of one call auction.
    function callBase(uint32 instrument, uint32 round) internal pure returns (uint256) {
        return (uint256(1) << 70) | (uint256(instrument) << 32) | round;
    }

    function isCall(uint256 orderId) internal pure returns (bool) {
        return (orderId >> (32 + _CALL_BIT)) & 1 == 1;
    }

    function level(uint256 orderId) internal pure returns (uint32 instrument, IMarket.Side side, uint24 tick) {
        uint256 key = orderId >> 32;
        return (uint32(key >> 57), IMarket.Side((key >> 24) & 1), uint24(key));
    }

    function callLevel(uint256 orderId)
        internal
        pure
        returns (uint32 instrument, uint32 round, IMarket.Side side, uint24 tick)
    {
        uint256 key = orderId >> 32;
        return (uint32(key >> 57), uint32(key >> 25), IMarket.Side((key >> 24) & 1), uint24(key));
    }
}

/// @title MarketMath
/// @notice Fees and price limits. A fee is charged per lot, so it is linear in the lots: escrow, fills and
/// refunds add up to the unit without rounding dust.
library MarketMath {
    /// @dev Trading days run on China Standard Time (UTC+8).
    uint256 private constant _DAY_OFFSET = 8 hours;

    /// @notice The trading day (days since the epoch, China Standard Time) of `timestamp`.
    function tradingDay(uint256 timestamp) internal pure returns (uint32) {
        return uint32((timestamp + _DAY_OFFSET) / 1 days);
    }

    /// @notice An instrument's reference price on `today`: the stored one, or the last price once a new day has
    /// begun and nobody has rolled it yet (the market rolls on the first action of the day).
    function referenceTick(IMarket.Instrument memory ins, uint32 today) internal pure returns (uint24) {
        return _reference(ins.day, today, ins.referenceTick, ins.lastTick);
    }

    /// @notice The reference price of `market`'s instrument `instrument` today in money units per allowance unit
    /// (per tonne), rounded down; 0 for instrument 0 (none).
    function unitReference(IMarket market, uint32 instrument) internal view returns (uint256) {
        if (instrument == 0) return 0;
        IMarket.Instrument memory ins = market.instrument(instrument);
        return uint256(referenceTick(ins, tradingDay(block.timestamp))) * ins.tickSize / ins.lotSize;
    }

    /// @notice An instrument's price limits now, in ticks (before or after the day's roll).
    function limitsNow(IMarket.Instrument storage ins, uint16 bandBps) internal view returns (uint24, uint24) {
        return band(_reference(ins.day, tradingDay(block.timestamp), ins.referenceTick, ins.lastTick), bandBps);
    }

    /// @dev The reference of a day: the stored one on the day it was rolled, else the last price.
    function _reference(uint32 day, uint32 today, uint24 rolled, uint24 last) private pure returns (uint24) {
        // slither-disable-next-line incorrect-equality (trading days are whole numbers: equality is the intended test)
        return day == today ? rolled : last;
    }

    /// @notice The fee of one lot at `price` (money units per lot), rounded down.
    function feePerLot(uint256 price, uint256 feeBps) internal pure returns (uint256) {
        return price * feeBps / BPS;
    }

    /// @notice The ticks within `bandBps` of `referenceTick`: low rounded up, high rounded down (at most the
    /// largest tick). A reference is at least 1 (listing and trading refuse tick 0) and every band is under
    /// 100% (`MarketParams.update`), so low is at least 1.
    function band(uint24 referenceTick, uint256 bandBps) internal pure returns (uint24 low, uint24 high) {
        uint256 ref = referenceTick;
        uint256 lo = (ref * (BPS - bandBps) + BPS - 1) / BPS;
        uint256 hi = ref * (BPS + bandBps) / BPS;
        // lo <= ref, a uint24
        low = uint24(lo);
        high = uint24(hi > type(uint24).max ? type(uint24).max : hi);
    }
}
