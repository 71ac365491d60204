// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IMarket} from "../../interfaces/IMarket.sol";
import {MarketIds, MarketMath, ORDER_TRACKED} from "./MarketIds.sol";
import {PriceBitmap} from "./PriceBitmap.sol";

/// @title CallAuction
/// @notice The periodic call auction of the market (an external library, linked, to keep `Market` small).
///
/// Orders collect per price; each price holds the lots to buy and to sell and a queue per side. At close the
/// clearing walks the occupied prices upwards, in chunks, and picks one price for every execution:
/// 1. the price that executes the largest volume, min(demand at or above it, supply at or below it);
/// 2. among those, the smallest imbalance |demand - supply|;
/// 3. market pressure: with more demand than supply the highest such price, with more supply the lowest, and
///    between a candidate of each kind (or among balanced prices) the one closest to the reference price, then
///    the lower one.
/// At that price the longer side is rationed by time priority: every order strictly better than the price fills
/// completely, and orders at the price fill in the order they were entered until the volume is used up (one order
/// may fill in part). Rule 3 is what guarantees that the longer side has orders at the price to ration. A second chunked walk finds that boundary. No tokens move while clearing: each order
/// settles when claimed, from the auction's stored outcome.
library CallAuction {
    using PriceBitmap for mapping(uint256 => uint256);
    using SafeERC20 for IERC20;

    /// @dev An order entering a call, with what the market knows of its instrument.
    struct Entry {
        uint32 instrument;
        uint32 round;
        IMarket.Side side;
        uint24 tick;
        uint32 lots;
        uint16 feeBps;
        uint8 flags;
        uint64 sequence;
        uint256 price;
        uint256 tokenId;
        uint256 lotSize;
    }

    uint8 internal constant COLLECTING = 0;
    uint8 internal constant PRICING = 1;
    uint8 internal constant RATIONING = 2;
    uint8 internal constant CLEARED = 3;

    /// @dev One price of one auction: lots and queue lengths per side.
    struct Level {
        uint64 buy;
        uint64 sell;
        uint32 buyTail;
        uint32 sellTail;
    }

    /// @dev Running sums of the pricing walk and of the rationing walk.
    struct Pricing {
        uint64 buyBelow;
        uint64 sellUpTo;
        uint64 imbalance;
        uint24 buySurplusTick; // the highest best price so far where demand exceeds supply
        uint24 sellSurplusTick; // the lowest best price so far where supply exceeds demand
        uint24 balancedTick; // the balanced best price so far closest to the reference
        uint24 distance; // of `balancedTick` from the reference
        uint64 rationed;
    }

    /// @dev What one owner has in an instrument's call: `round << 65 | side << 64 | lots` (lots still entered).
    struct Storage {
        mapping(uint256 => IMarket.Auction) auctions;
        mapping(uint256 => Level) levels;
        mapping(uint256 => Pricing) pricing;
        mapping(uint256 ownerKey => uint256) entered;
    }

    /// @notice Enter an order into the open call (runs in the market's context): record it, emit
    /// `OrderPlaced`, and pull its escrow (a buy escrows its limit price plus fee).
    function place(
        Storage storage s,
        mapping(uint256 => uint256) storage bitmaps,
        mapping(uint256 => IMarket.Order) storage orders,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        Entry memory e,
        IERC20 money,
        IERC1155 allowance
    ) public returns (uint256 orderId) {
        orderId = enter(s, bitmaps, e.instrument, e.round, e.side, e.tick, e.lots);
        _join(s, msg.sender, e.instrument, e.round, e.side, int256(uint256(e.lots)));
        orders[orderId] = IMarket.Order(msg.sender, e.lots, 0, e.feeBps, e.flags);
        if (e.flags & ORDER_TRACKED != 0) openBuy[msg.sender][e.instrument] += e.lots;
        emit IMarket.OrderPlaced(e.instrument, msg.sender, orderId, e.sequence, e.side, e.price, e.lots, 0, e.lots, e.feeBps);
        if (e.side == IMarket.Side.Buy) {
            money.safeTransferFrom(msg.sender, address(this), uint256(e.lots) * (e.price + MarketMath.feePerLot(e.price, e.feeBps)));
        } else {
            allowance.safeTransferFrom(msg.sender, address(this), e.tokenId, uint256(e.lots) * e.lotSize, "");
        }
    }

    /// @notice Cancel a call order (runs in the market's context): while the call collects, take it out and
    /// return its escrow; once cleared, settle it as a claim. Returns what its owner receives and the fee.
    function cancel(
        Storage storage s,
        mapping(uint256 => uint256) storage bitmaps,
        mapping(uint256 => IMarket.Order) storage orders,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        uint256 orderId,
        uint256 tickSize,
        uint256 lotSize
    ) public returns (uint256 money, uint256 units, uint256 fee) {
        // slither-disable-next-line unused-return (side and tick are read from the stored order)
        (uint32 id, uint32 round,,) = MarketIds.callLevel(orderId);
        uint8 stage = s.auctions[MarketIds.auctionKey(id, round)].stage;
        if (stage == CLEARED) return claim(s, orders, openBuy, orderId, tickSize, lotSize);
        if (stage != COLLECTING) revert IMarket.Market__WrongPhase(id, IMarket.Phase.Clearing);
        (money, units) = _withdraw(s, bitmaps, orders, openBuy, orderId, tickSize, lotSize);
    }

    /// @dev Take a collecting call's order out; returns its escrow.
    function _withdraw(
        Storage storage s,
        mapping(uint256 => uint256) storage bitmaps,
        mapping(uint256 => IMarket.Order) storage orders,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        uint256 orderId,
        uint256 tickSize,
        uint256 lotSize
    ) private returns (uint256 money, uint256 units) {
        IMarket.Order memory o = orders[orderId];
        leave(s, bitmaps, orderId, o.remaining);
        (uint32 id, uint32 round, IMarket.Side side, uint24 tick) = MarketIds.callLevel(orderId);
        _join(s, o.owner, id, round, side, -int256(uint256(o.remaining)));
        delete orders[orderId];
        if (o.flags & ORDER_TRACKED != 0) openBuy[o.owner][id] -= o.remaining;
        emit IMarket.OrderCancelled(orderId, o.owner, o.remaining);
        uint256 price = uint256(tick) * tickSize;
        if (side == IMarket.Side.Buy) money = uint256(o.remaining) * (price + MarketMath.feePerLot(price, o.feeBps));
        else units = uint256(o.remaining) * lotSize;
    }

    /// @notice Settle a call order of a cleared auction (runs in the market's context): its fill at the clearing
    /// price and the refund of the rest. Returns what its owner receives and the fee it paid.
    function claim(
        Storage storage s,
        mapping(uint256 => IMarket.Order) storage orders,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        uint256 orderId,
        uint256 tickSize,
        uint256 lotSize
    ) public returns (uint256 money, uint256 units, uint256 fee) {
        (IMarket.Order memory o, uint32 fill, uint256 clearing) = _fillOf(s, orders, orderId, tickSize);
        // slither-disable-next-line unused-return (the round is checked through the auction key)
        (uint32 id,, IMarket.Side side, uint24 tick) = MarketIds.callLevel(orderId);
        delete orders[orderId];
        if (o.flags & ORDER_TRACKED != 0) openBuy[o.owner][id] -= o.remaining;
        fee = uint256(fill) * MarketMath.feePerLot(clearing, o.feeBps);
        if (side == IMarket.Side.Buy) {
            uint256 limit = uint256(tick) * tickSize;
            units = uint256(fill) * lotSize;
            money = uint256(o.remaining) * (limit + MarketMath.feePerLot(limit, o.feeBps)) - uint256(fill) * clearing - fee;
        } else {
            money = uint256(fill) * clearing - fee;
            units = uint256(o.remaining - fill) * lotSize;
        }
        emit IMarket.OrderClaimed(orderId, o.owner, fill, money, units, fee);
    }

    /// @dev A call order, what it executes and the clearing price; reverts unless its auction has cleared.
    function _fillOf(Storage storage s, mapping(uint256 => IMarket.Order) storage orders, uint256 orderId, uint256 tickSize)
        private
        view
        returns (IMarket.Order memory o, uint32 fill, uint256 clearing)
    {
        (uint32 id, uint32 round, IMarket.Side side, uint24 tick) = MarketIds.callLevel(orderId);
        IMarket.Auction memory a = s.auctions[MarketIds.auctionKey(id, round)];
        if (a.stage != CLEARED) revert IMarket.Market__NotCleared(id, round);
        o = orders[orderId];
        fill = fillOf(a, side, tick, uint32(orderId), o.remaining);
        clearing = uint256(a.priceTick) * tickSize;
    }

    /// @dev Count `owner`'s lots on `side` of the round (`delta` in lots, negative when an order leaves): an owner
    /// takes one side per round (`Market__CallSelfTrade`), and the auction counts the distinct owners with lots on
    /// each side, for the reference rule of `Market`.
    function _join(Storage storage s, address owner, uint32 instrument, uint32 round, IMarket.Side side, int256 delta)
        private
    {
        uint256 key = (uint256(uint160(owner)) << 32) | instrument;
        uint256 v = s.entered[key];
        uint256 lots = 0;
        if (v >> 65 == round) {
            lots = uint64(v);
            if (lots != 0 && IMarket.Side((v >> 64) & 1) != side) {
                revert IMarket.Market__CallSelfTrade(instrument, round, owner);
            }
        }
        uint256 next = uint256(int256(lots) + delta);
        s.entered[key] = (uint256(round) << 65) | (uint256(uint8(side)) << 64) | next;
        if ((lots == 0) == (next == 0)) return;
        IMarket.Auction storage a = s.auctions[MarketIds.auctionKey(instrument, round)];
        bool buy = side == IMarket.Side.Buy;
        if (next != 0) {
            if (buy) ++a.buyers;
            else ++a.sellers;
        } else if (buy) {
            --a.buyers;
        } else {
            --a.sellers;
        }
    }

    /// @notice Add an order of `lots` at `tick` to the auction; returns its order id.
    function enter(
        Storage storage s,
        mapping(uint256 => uint256) storage bitmaps,
        uint32 instrument,
        uint32 round,
        IMarket.Side side,
        uint24 tick,
        uint32 lots
    ) internal returns (uint256 orderId) {
        uint256 key = MarketIds.callLevelKey(instrument, round, tick);
        Level memory l = s.levels[key];
        if (l.buy == 0 && l.sell == 0) bitmaps.set(MarketIds.callBase(instrument, round), tick);
        IMarket.Auction storage a = s.auctions[MarketIds.auctionKey(instrument, round)];
        uint32 position;
        if (side == IMarket.Side.Buy) {
            position = l.buyTail++;
            l.buy += lots;
            a.totalBuy += lots;
        } else {
            position = l.sellTail++;
            l.sell += lots;
            a.totalSell += lots;
        }
        s.levels[key] = l;
        orderId = (MarketIds.levelKey(true, instrument, round, side, tick) << 32) | position;
    }

    /// @notice Take a cancelled order's `lots` out of the auction.
    function leave(Storage storage s, mapping(uint256 => uint256) storage bitmaps, uint256 orderId, uint32 lots)
        internal
    {
        (uint32 instrument, uint32 round, IMarket.Side side, uint24 tick) = MarketIds.callLevel(orderId);
        uint256 key = MarketIds.callLevelKey(instrument, round, tick);
        Level storage l = s.levels[key];
        IMarket.Auction storage a = s.auctions[MarketIds.auctionKey(instrument, round)];
        if (side == IMarket.Side.Buy) {
            l.buy -= lots;
            a.totalBuy -= lots;
        } else {
            l.sell -= lots;
            a.totalSell -= lots;
        }
        if (l.buy == 0 && l.sell == 0) bitmaps.unset(MarketIds.callBase(instrument, round), tick);
    }

    /// @notice Close the auction: the pricing walk starts at the lowest occupied price.
    function start(Storage storage s, mapping(uint256 => uint256) storage bitmaps, uint32 instrument, uint32 round)
        public
        returns (uint64 totalBuy, uint64 totalSell)
    {
        IMarket.Auction storage a = s.auctions[MarketIds.auctionKey(instrument, round)];
        uint256 first = bitmaps.atOrAbove(MarketIds.callBase(instrument, round), 1);
        a.cursor = first == PriceBitmap.NONE ? 0 : uint24(first);
        a.stage = PRICING;
        return (a.totalBuy, a.totalSell);
    }

    /// @notice Run up to `maxSteps` steps (a price, or an order at the rationed price); returns whether the
    /// auction has cleared and, once it has, the new reference price: the clearing price if the call traded with
    /// at least `minTraders` distinct buyers and as many sellers, else 0 (the reference stays). Emits `CallCleared`,
    /// and `ReferenceKept` when a call traded with too few.
    function advance(
        Storage storage s,
        mapping(uint256 => uint256) storage bitmaps,
        mapping(uint256 => IMarket.Order) storage orders,
        uint32 instrument,
        uint32 round,
        uint24 referenceTick,
        uint8 minTraders,
        uint256 maxSteps
    ) public returns (bool done, uint24 newReference) {
        uint256 akey = MarketIds.auctionKey(instrument, round);
        IMarket.Auction memory a = s.auctions[akey];
        Pricing memory pr = s.pricing[akey];
        uint256 steps = 0;
        if (a.stage == PRICING) {
            steps = _price(s, bitmaps, a, pr, instrument, round, referenceTick, maxSteps);
            if (a.cursor == 0) _decide(s, a, pr, instrument, round, referenceTick);
        }
        if (a.stage == RATIONING) _ration(orders, a, pr, instrument, round, maxSteps - steps);
        s.auctions[akey] = a;
        s.pricing[akey] = pr;
        if (a.stage != CLEARED) return (false, 0);
        emit IMarket.CallCleared(
            instrument, round, a.priceTick, a.volume, a.rationing, a.rationed, a.boundary, a.boundaryFill
        );
        if (a.volume == 0) return (true, 0);
        if (a.buyers < minTraders || a.sellers < minTraders) {
            emit IMarket.ReferenceKept(instrument, round, a.buyers, a.sellers, minTraders);
            return (true, 0);
        }
        return (true, a.priceTick);
    }

    /// @notice What an order of `lots` at `tick`, position `position` in its queue, executes in a cleared auction.
    function fillOf(IMarket.Auction memory a, IMarket.Side side, uint24 tick, uint32 position, uint32 lots)
        internal
        pure
        returns (uint32)
    {
        if (a.volume == 0) return 0;
        uint24 price = a.priceTick;
        if (side == IMarket.Side.Buy) {
            if (tick < price) return 0;
            if (tick > price || !a.rationing || a.rationed != side) return lots;
        } else {
            if (tick > price) return 0;
            if (tick < price || !a.rationing || a.rationed != side) return lots;
        }
        if (position < a.boundary) return lots;
        return position == a.boundary ? a.boundaryFill : 0;
    }

    /// @dev The pricing walk: one step per occupied price, lowest first.
    function _price(
        Storage storage s,
        mapping(uint256 => uint256) storage bitmaps,
        IMarket.Auction memory a,
        Pricing memory pr,
        uint32 instrument,
        uint32 round,
        uint24 referenceTick,
        uint256 maxSteps
    ) private view returns (uint256 steps) {
        uint256 base = MarketIds.callBase(instrument, round);
        while (a.cursor != 0 && steps < maxSteps) {
            uint24 tick = a.cursor;
            Level memory l = s.levels[MarketIds.callLevelKey(instrument, round, tick)];
            pr.sellUpTo += l.sell;
            _consider(a, pr, tick, referenceTick);
            pr.buyBelow += l.buy;
            uint256 next = bitmaps.atOrAbove(base, uint256(tick) + 1);
            a.cursor = next == PriceBitmap.NONE ? 0 : uint24(next);
            ++steps;
        }
    }

    /// @dev Record `tick` if it is as good as or better than the best price so far (rules 1 and 2), keeping the
    /// candidates rule 3 chooses from.
    function _consider(IMarket.Auction memory a, Pricing memory pr, uint24 tick, uint24 referenceTick) private pure {
        uint64 demand = a.totalBuy - pr.buyBelow;
        uint64 supply = pr.sellUpTo;
        uint64 volume = demand < supply ? demand : supply;
        if (volume == 0) return;
        uint64 imbalance = demand > supply ? demand - supply : supply - demand;
        if (volume > a.volume || (volume == a.volume && imbalance < pr.imbalance)) {
            a.volume = volume;
            pr.imbalance = imbalance;
            (pr.buySurplusTick, pr.sellSurplusTick, pr.balancedTick) = (0, 0, 0);
        } else if (volume < a.volume || imbalance > pr.imbalance) {
            return;
        }
        uint24 distance = tick > referenceTick ? tick - referenceTick : referenceTick - tick;
        if (demand > supply) {
            pr.buySurplusTick = tick; // ascending: the last one is the highest
        } else if (supply > demand) {
            if (pr.sellSurplusTick == 0) pr.sellSurplusTick = tick;
        } else if (pr.balancedTick == 0 || distance < pr.distance) {
            pr.balancedTick = tick;
            pr.distance = distance;
        }
    }

    /// @dev After pricing, rule 3: a buy surplus clears at its highest best price, a sell surplus at its lowest,
    /// a balanced book closest to the reference; between a buy- and a sell-surplus candidate, the one closer to
    /// the reference, then the lower. Then the side rationed at the price and how much of it executes there:
    /// with surplus k on the buy side, demand is volume + k, so the buys at the price execute their lots less k.
    function _decide(
        Storage storage s,
        IMarket.Auction memory a,
        Pricing memory pr,
        uint32 instrument,
        uint32 round,
        uint24 referenceTick
    ) private view {
        if (a.volume == 0) {
            a.stage = CLEARED;
            return;
        }
        if (pr.imbalance == 0) {
            a.priceTick = pr.balancedTick;
            a.stage = CLEARED;
            return;
        }
        (uint24 up, uint24 down) = (pr.buySurplusTick, pr.sellSurplusTick);
        bool buySurplus = down == 0;
        if (up != 0 && down != 0) {
            uint24 du = up > referenceTick ? up - referenceTick : referenceTick - up;
            uint24 dd = down > referenceTick ? down - referenceTick : referenceTick - down;
            // on a tie the lower price, which is the buy surplus's: its range lies below the sell surplus's
            buySurplus = du <= dd;
        }
        a.priceTick = buySurplus ? up : down;
        Level memory l = s.levels[MarketIds.callLevelKey(instrument, round, a.priceTick)];
        a.rationing = true;
        a.rationed = buySurplus ? IMarket.Side.Buy : IMarket.Side.Sell;
        // the rules guarantee lots at the price on the surplus side, more than the surplus (see the docs)
        a.marginal = (buySurplus ? l.buy : l.sell) - pr.imbalance;
        a.stage = RATIONING;
    }

    /// @dev The rationing walk: orders at the price in time order until the marginal volume is used up.
    function _ration(
        mapping(uint256 => IMarket.Order) storage orders,
        IMarket.Auction memory a,
        Pricing memory pr,
        uint32 instrument,
        uint32 round,
        uint256 maxSteps
    ) private view {
        uint256 key = MarketIds.levelKey(true, instrument, round, a.rationed, a.priceTick) << 32;
        for (uint256 steps; steps < maxSteps; ++steps) {
            if (pr.rationed == a.marginal) {
                a.boundaryFill = 0;
                a.stage = CLEARED;
                return;
            }
            // a cancelled order's slot is empty: it counts zero
            uint64 lots = orders[key | a.boundary].remaining;
            if (pr.rationed + lots >= a.marginal) {
                a.boundaryFill = uint32(a.marginal - pr.rationed);
                a.stage = CLEARED;
                return;
            }
            pr.rationed += lots;
            ++a.boundary;
        }
    }
}
