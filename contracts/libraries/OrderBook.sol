// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarket} from "../../interfaces/IMarket.sol";
import {IParticipantRegistry} from "../../interfaces/IParticipantRegistry.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IBlockTradeDesk} from "../../interfaces/IBlockTradeDesk.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CallAuction} from "./CallAuction.sol";
import {MarketIds, MarketMath, ORDER_SUSPENDED, ORDER_TRACKED} from "./MarketIds.sol";
import {PriceBitmap} from "./PriceBitmap.sol";
import {TPlusOne} from "./TPlusOne.sol";

/// @title OrderBook
/// @notice The continuous book of the market (an external library, linked, run in the market's context):
/// price-time matching, resting and leaving a level. Orders rest in a FIFO queue per price level, and a level's
/// order ids encode instrument, side, price tick and queue position (`MarketIds`), so an order is one storage
/// slot and a level one more; a three-level bitmap finds the next occupied level (after Clober and Solady).
/// Fills only update the maker's slot: makers claim.
library OrderBook {
    using PriceBitmap for mapping(uint256 => uint256);
    using SafeERC20 for IERC20;

    /// @dev What a batch of releases needs besides the book: where the market's tokens and rules are.
    struct Release {
        address recovery; // zero: stale orders back to their owners; else revoked owners' orders to it
        uint16 bandBps;
        IParticipantRegistry registry;
        IERC20 money;
        IERC1155 allowance;
    }

    /// @dev A claim batch's running totals: units are paid per run of one token, money and fees at the end.
    struct Payout {
        address owner;
        uint256 tokenId;
        uint256 units;
        uint256 lastUnits;
        uint256 money;
        uint256 fees;
    }

    /// @notice The most cancelled or suspended slots one taker skips at one level (they do not count against its
    /// `maxFills`): past it the taker stops there, and the skips so far are kept, so the next taker goes on.
    uint256 internal constant MAX_SKIPS = 100;


    struct Storage {
        mapping(uint256 levelKey => Level) levels;
        mapping(uint256 orderId => IMarket.Order) orders;
        mapping(uint256 => uint256) bitmaps;
        /// @dev T+1: the allowance units the market delivered to an account today, per instrument, packed as
        /// `units << 32 | day`; written only while the instrument's rule is on.
        mapping(address => mapping(uint32 => uint256)) bought;
    }

    /// @dev What every placement reads and writes: best prices, the order sequence, the investor limit.
    struct Book {
        uint24 bestBid;
        uint24 bestAsk;
        uint64 sequence;
        uint64 positionLimit;
    }

    /// @dev A FIFO queue of orders at one price of the continuous book. It also carries its instrument's grid
    /// (fixed at listing), so that a cancellation reads one slot for the level and the price.
    struct Level {
        uint32 head;
        uint32 tail;
        uint64 lots;
        uint64 tickSize;
        uint64 lotSize;
    }

    /// @dev A taker order while it matches.
    struct Taker {
        uint32 instrument;
        IMarket.Side side;
        uint24 limit;
        uint24 low;
        uint24 high;
        uint16 feeBps;
        uint32 left;
        uint32 filled;
        uint24 lastTick;
        bool selfMatch;
        bool tPlusOne; // a buy under T+1: its fills are recorded
        uint64 sequence;
        uint8 flags;
        uint256 price;
        uint256 tickSize;
        uint256 lotSize;
        uint256 fills;
        uint256 maxFills;
        uint256 money;
        uint256 fee;
    }


    /// @dev Match `t` against the opposite side, best price first, at most `t.maxFills` resting orders touched.
    function matchTaker(Storage storage s, IParticipantRegistry registry, Book memory book, Taker memory t)
        public
        returns (Book memory, Taker memory)
    {
        bool buying = t.side == IMarket.Side.Buy;
        IMarket.Side makerSide = buying ? IMarket.Side.Sell : IMarket.Side.Buy;
        uint256 base = MarketIds.bookBase(t.instrument, makerSide);
        uint256 best = buying ? book.bestAsk : book.bestBid;
        while (best != 0 && t.left != 0 && t.fills < t.maxFills) {
            if (buying ? best > t.limit : best < t.limit) break;
            if (best < t.low || best > t.high) {
                // a level left outside today's limits (a new reference, a narrower band) cannot trade: it leaves
                // the book, and counts as one order touched so that the work stays bounded
                _withdrawLevel(s, t.instrument, makerSide, uint24(best));
                unchecked {
                    ++t.fills; // fills < maxFills here
                }
            } else if (!_fillLevel(s, registry, t, makerSide, uint24(best))) {
                break;
            }
            s.bitmaps.unset(base, uint24(best));
            best = buying ? s.bitmaps.atOrAbove(base, best + 1) : s.bitmaps.atOrBelow(base, best - 1);
            if (best == PriceBitmap.NONE) best = 0;
        }
        if (buying) _boughtBy(s, book, t, uint24(best));
        else book.bestBid = uint24(best);
        return (book, t);
    }

    /// @dev After a buy matched: the new best ask, and under T+1 the units the taker received today.
    function _boughtBy(Storage storage s, Book memory book, Taker memory t, uint24 bestAsk) private {
        book.bestAsk = bestAsk;
        if (t.tPlusOne && t.filled != 0) TPlusOne.add(s.bought, msg.sender, t.instrument, uint256(t.filled) * t.lotSize);
    }

    /// @notice T+1: revert `Market__BoughtToday` unless the sender can sell `units` of instrument `id` without
    /// selling any of the units delivered to it today, by the market or by `desk` (its balance of `tokenId` less
    /// those).
    function checkSellable(
        Storage storage s,
        IBlockTradeDesk desk,
        IERC1155 allowance,
        uint256 tokenId,
        uint32 id,
        uint256 units
    ) public view {
        uint256 bought = boughtToday(s, desk, msg.sender, id);
        if (bought == 0) return;
        TPlusOne.requireSellable(msg.sender, id, units, allowance.balanceOf(msg.sender, tokenId), bought);
    }

    /// @notice The units of instrument `id` delivered to `account` today by the market and by `desk` (recorded
    /// while the instrument's T+1 rule is on).
    function boughtToday(Storage storage s, IBlockTradeDesk desk, address account, uint32 id)
        public
        view
        returns (uint256)
    {
        uint256 inBlocks = address(desk) == address(0) ? 0 : desk.boughtToday(account, id);
        return TPlusOne.boughtToday(s.bought, account, id) + inBlocks;
    }

    /// @dev Record the units a buy order's owner receives, if the instrument's T+1 rule is on.
    function _noteDelivery(Storage storage s, IMarket.Instrument storage ins, uint256 orderId, address owner, uint256 units)
        private
    {
        // slither-disable-next-line unused-return (instrument and side are what a delivery needs)
        (uint32 id, IMarket.Side side,) = MarketIds.level(orderId);
        if (units != 0 && side == IMarket.Side.Buy && ins.tPlusOne) TPlusOne.add(s.bought, owner, id, units);
    }

    /// @notice Claim `orderIds` (of any owners, either book) and pay each owner (runs in the market's context): for
    /// each run of consecutive orders of one owner, the units of consecutive orders of one instrument in one
    /// transfer and the money in one at the end of the run (a caller that lists each owner's orders together pays
    /// each owner once). Returns the fees they paid.
    function claimBatch(
        Storage storage s,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        mapping(uint32 => IMarket.Instrument) storage instruments,
        uint256[] calldata orderIds,
        IERC20 money,
        IERC1155 allowance
    ) public returns (uint256) {
        Payout memory p = Payout({owner: address(0), tokenId: 0, units: 0, lastUnits: 0, money: 0, fees: 0});
        for (uint256 i; i < orderIds.length; ++i) {
            address owner = _owner(s, orderIds[i]);
            if (owner != p.owner) {
                _pay(p, money, allowance);
                p.owner = owner;
            }
            uint256 tokenId = _claimOne(s, openBuy, calls, instruments, orderIds[i], p);
            if (p.units != 0 && tokenId != p.tokenId) {
                allowance.safeTransferFrom(address(this), p.owner, p.tokenId, p.units, "");
                p.units = 0;
            }
            p.tokenId = tokenId;
            p.units += p.lastUnits;
        }
        _pay(p, money, allowance);
        return p.fees;
    }

    /// @dev Pay `p.owner` the money and units gathered in `p` (nothing when there are none), and empty them.
    function _pay(Payout memory p, IERC20 money, IERC1155 allowance) private {
        if (p.money != 0) money.safeTransfer(p.owner, p.money);
        if (p.units != 0) allowance.safeTransferFrom(address(this), p.owner, p.tokenId, p.units, "");
        (p.money, p.units) = (0, 0);
    }

    /// @dev Claim one order of `p.owner`'s (either book) into `p`; returns its token id (its units are left in
    /// `p.lastUnits`: the caller pays the previous token's first).
    function _claimOne(
        Storage storage s,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        mapping(uint32 => IMarket.Instrument) storage instruments,
        uint256 orderId,
        Payout memory p
    ) private returns (uint256 tokenId) {
        // slither-disable-next-line unused-return (only the instrument is needed; side and tick are read from the level)
        (uint32 id,,) = MarketIds.level(orderId);
        IMarket.Instrument storage ins = instruments[id];
        (uint256 money, uint256 units, uint256 fee) = _claimAny(s, openBuy, calls, ins, orderId);
        _noteDelivery(s, ins, orderId, p.owner, units);
        p.money += money;
        p.fees += fee;
        p.lastUnits = units;
        return ins.tokenId;
    }

    /// @dev Claim an order of either book.
    function _claimAny(
        Storage storage s,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        IMarket.Instrument storage ins,
        uint256 orderId
    ) private returns (uint256 money, uint256 units, uint256 fee) {
        if (MarketIds.isCall(orderId)) return CallAuction.claim(calls, s.orders, openBuy, orderId, ins.tickSize, ins.lotSize);
        return claim(s, openBuy, orderId, ins.tickSize, ins.lotSize);
    }

    /// @notice Cancel an order of either book for its owner (runs in the market's context); returns its escrow and
    /// unclaimed proceeds, and the fee on them.
    function take(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        IMarket.Instrument storage ins,
        uint256 orderId
    ) public returns (uint256 money, uint256 units, uint256 fee) {
        address owner = _owner(s, orderId);
        if (owner != msg.sender) revert IMarket.Market__NotOwner(orderId, msg.sender);
        (money, units, fee) = _takeAny(s, books, openBuy, calls, ins, orderId);
        _noteDelivery(s, ins, orderId, owner, units);
    }

    /// @dev Cancel an order of either book; a buy's units are its fills.
    function _takeAny(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        IMarket.Instrument storage ins,
        uint256 orderId
    ) private returns (uint256 money, uint256 units, uint256 fee) {
        if (MarketIds.isCall(orderId)) {
            return CallAuction.cancel(calls, s.bitmaps, s.orders, openBuy, orderId, ins.tickSize, ins.lotSize);
        }
        return cancel(s, books, openBuy, orderId);
    }

    /// @dev An order's owner; reverts `Market__UnknownOrder` for an order that does not exist.
    function _owner(Storage storage s, uint256 orderId) private view returns (address owner) {
        owner = s.orders[orderId].owner;
        if (owner == address(0)) revert IMarket.Market__UnknownOrder(orderId);
    }

    /// @dev Take a level out of the book: its queue is emptied (head moves to tail) and its lots go to zero, so that
    /// every order still resting there is out of the book (`inBook` is false) until its owner cancels it.
    function _withdrawLevel(Storage storage s, uint32 instrument, IMarket.Side side, uint24 tick) private {
        Level storage lv = s.levels[MarketIds.levelKey(false, instrument, 0, side, tick)];
        (uint32 head, uint32 tail, uint64 lots) = (lv.head, lv.tail, lv.lots);
        (lv.head, lv.lots) = (tail, 0);
        emit IMarket.LevelWithdrawn(instrument, side, tick, head, tail, lots);
    }

    /// @dev Whether order `o` (at `position` in a level whose queue starts at `head`) still rests in the book: not
    /// filled or cancelled, not suspended, and not in a part of the queue a withdrawal emptied. Every order of the
    /// book sits at or after its level's head: the head only passes orders that are filled, cancelled, suspended,
    /// or in a queue whose lots are all gone.
    function inBook(IMarket.Order memory o, uint32 position, uint32 head) internal pure returns (bool) {
        return o.remaining != 0 && o.flags & ORDER_SUSPENDED == 0 && position >= head;
    }

    /// @notice The lots resting at `tick` on `side` of instrument `id` that can trade now (0 outside today's limits).
    function tradableDepth(
        Storage storage s,
        IMarket.Instrument storage ins,
        uint32 id,
        IMarket.Side side,
        uint24 tick,
        uint16 bandBps
    ) public view returns (uint64) {
        (uint24 low, uint24 high) = MarketMath.limitsNow(ins, bandBps);
        if (tick < low || tick > high) return 0;
        return s.levels[MarketIds.levelKey(false, id, 0, side, tick)].lots;
    }

    /// @notice The best bid and ask of `book` that can trade within `[low, high]` (0 where there is none): a stored
    /// best price outside the limits is replaced by the nearest occupied level inside them.
    function tradableBest(Storage storage s, Book memory book, IMarket.Instrument storage ins, uint32 id, uint16 bandBps)
        public
        view
        returns (uint24 bid, uint24 ask)
    {
        (uint24 low, uint24 high) = MarketMath.limitsNow(ins, bandBps);
        (bid, ask) = (book.bestBid, book.bestAsk);
        if (bid > high) {
            uint256 next = s.bitmaps.atOrBelow(MarketIds.bookBase(id, IMarket.Side.Buy), high);
            bid = next == PriceBitmap.NONE ? 0 : uint24(next);
        }
        if (bid < low) bid = 0;
        if (ask != 0 && ask < low) {
            uint256 next = s.bitmaps.atOrAbove(MarketIds.bookBase(id, IMarket.Side.Sell), low);
            ask = next == PriceBitmap.NONE ? 0 : uint24(next);
        }
        if (ask > high) ask = 0;
    }

    /// @notice Take orders out and pay what they hold (runs in the market's context): stale orders to their owners
    /// (`r.recovery` zero: the exchange's sweep, skipping an owner that cannot be paid from a batch, a contract or
    /// one not active, who cancels its own; an order that can still trade reverts `Market__OrderTradable`), or
    /// revoked owners' orders, of either book, to `r.recovery` (`Market__OwnerNotRevoked` otherwise). Orders
    /// already gone are skipped, so a chunk is safe to send again. Returns how many went and the fees they paid.
    function releaseBatch(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        mapping(uint32 => IMarket.Instrument) storage instruments,
        uint256[] calldata orderIds,
        Release memory r
    ) public returns (uint256 count, uint256 fees) {
        for (uint256 i; i < orderIds.length; ++i) {
            uint256 orderId = orderIds[i];
            address to = _payee(s, orderId, r);
            if (to == address(0)) continue;
            // slither-disable-next-line unused-return (only the instrument is needed)
            (uint32 id,,) = MarketIds.level(orderId);
            fees += _releaseAndPay(s, books, openBuy, calls, instruments[id], orderId, r, to);
            ++count;
        }
    }

    /// @dev Who an order's escrow goes to in a release, or zero to skip it: gone already (a re-sent chunk), or, in
    /// the sweep, an owner who cannot be paid from a batch (a contract, or not active) and cancels its own.
    function _payee(Storage storage s, uint256 orderId, Release memory r) private view returns (address) {
        address owner = s.orders[orderId].owner;
        if (owner == address(0)) return address(0);
        if (r.recovery == address(0)) return owner.code.length != 0 || !r.registry.isActive(owner) ? address(0) : owner;
        if (r.registry.statusOf(owner) != IParticipantRegistry.Status.Revoked) {
            revert IMarket.Market__OwnerNotRevoked(orderId, owner);
        }
        return r.recovery;
    }

    /// @dev Take one order out and pay what it held to `to`; returns the fee it paid.
    function _releaseAndPay(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        IMarket.Instrument storage ins,
        uint256 orderId,
        Release memory r,
        address to
    ) private returns (uint256 fee) {
        uint256 money;
        uint256 units;
        (money, units, fee) = _releaseOne(s, books, openBuy, calls, ins, orderId, r);
        if (r.recovery == address(0)) _noteDelivery(s, ins, orderId, to, units);
        if (money != 0) r.money.safeTransfer(to, money);
        if (units != 0) r.allowance.safeTransferFrom(address(this), to, ins.tokenId, units, "");
    }

    /// @dev Take one order out for `releaseBatch`: a stale one back to its owner, or a revoked owner's to recovery.
    function _releaseOne(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        CallAuction.Storage storage calls,
        IMarket.Instrument storage ins,
        uint256 orderId,
        Release memory r
    ) private returns (uint256 money, uint256 units, uint256 fee) {
        if (r.recovery == address(0)) return _returnStale(s, books, openBuy, ins, orderId, r.bandBps);
        address owner = s.orders[orderId].owner;
        (money, units, fee) = _takeAny(s, books, openBuy, calls, ins, orderId);
        emit IMarket.OrderRecovered(orderId, owner, r.recovery);
    }

    /// @dev Return a stale order: one out of the book, or one priced outside today's limits (which leaves its
    /// level first); an order that can still trade reverts `Market__OrderTradable`.
    function _returnStale(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        IMarket.Instrument storage ins,
        uint256 orderId,
        uint16 bandBps
    ) private returns (uint256 money, uint256 units, uint256 fee) {
        (uint24 low, uint24 high) = MarketMath.limitsNow(ins, bandBps);
        // slither-disable-next-line unused-return (only the tick is needed)
        (, , uint24 tick) = MarketIds.level(orderId);
        if (MarketIds.isCall(orderId) || (tick >= low && tick <= high && _resting(s, orderId))) {
            revert IMarket.Market__OrderTradable(orderId);
        }
        IMarket.Order memory o = s.orders[orderId];
        (money, units, fee) = cancel(s, books, openBuy, orderId);
        emit IMarket.OrderReturned(orderId, o.owner, o.remaining);
    }

    /// @dev Whether a continuous order still rests in the book.
    function _resting(Storage storage s, uint256 orderId) private view returns (bool) {
        (uint32 id, IMarket.Side side, uint24 tick) = MarketIds.level(orderId);
        return inBook(s.orders[orderId], uint32(orderId), s.levels[MarketIds.levelKey(false, id, 0, side, tick)].head);
    }

    /// @dev Fill `t` from the queue at `tick`; true if the level is left empty.
    function _fillLevel(Storage storage s, IParticipantRegistry registry, Taker memory t, IMarket.Side makerSide, uint24 tick) private returns (bool emptied) {
        uint256 key = MarketIds.levelKey(false, t.instrument, 0, makerSide, tick);
        Level memory lv = s.levels[key];
        uint256 price = uint256(tick) * t.tickSize;
        uint256 makerLots = 0;
        uint256 skipped = 0;
        while (lv.head < lv.tail && t.left != 0 && t.fills < t.maxFills && skipped < MAX_SKIPS) {
            (uint32 q, bool skip) = _fillOrder(s, registry, t, lv, (key << 32) | lv.head, price);
            if (skip) {
                ++skipped;
                continue;
            }
            if (t.selfMatch) break;
            makerLots += q;
        }
        if (makerLots != 0) {
            lv.lots -= uint64(makerLots);
            t.money += makerLots * price;
            t.fee += makerLots * MarketMath.feePerLot(price, t.feeBps);
            t.lastTick = tick;
        }
        emptied = lv.lots == 0;
        // nothing but cancelled or suspended orders can be left in an empty queue: skip them all
        if (emptied) lv.head = lv.tail;
        s.levels[key] = lv;
    }

    /// @dev Fill `t` from the order at the head of `lv`: skips a cancelled slot without counting it
    /// as an order touched (`skip`), suspends an order whose owner is not active, stops at the taker's own.
    /// Returns the lots filled.
    function _fillOrder(
        Storage storage s,
        IParticipantRegistry registry,
        Taker memory t,
        Level memory lv,
        uint256 orderId,
        uint256 price
    ) private returns (uint32 q, bool skip) {
        IMarket.Order storage o = s.orders[orderId];
        (address owner, uint32 remaining, uint8 flags) = (o.owner, o.remaining, o.flags);
        unchecked {
            // head < tail here, and fills < maxFills: neither overflows
            // a suspended order is always behind the head (suspension moves the head past it): a slot at the head
            // with nothing remaining is a cancelled order
            if (remaining == 0) {
                ++lv.head;
                return (0, true);
            }
            ++t.fills;
        }
        if (owner == msg.sender) {
            t.selfMatch = true;
            return (0, false);
        }
        if (!registry.isActive(owner)) {
            o.flags = flags | ORDER_SUSPENDED;
            lv.lots -= remaining;
            unchecked {
                ++lv.head;
            }
            emit IMarket.OrderSuspended(orderId, owner, remaining);
            return (0, false);
        }
        q = remaining < t.left ? remaining : t.left;
        unchecked {
            // q <= remaining, q <= t.left; filled + remaining never exceeds the order's lots (a uint32)
            o.remaining = remaining - q;
            o.filled += q;
            t.left -= q;
            t.filled += q;
            if (q == remaining) ++lv.head;
        }
        emit IMarket.OrderFilled(orderId, t.instrument, msg.sender, t.sequence, price, q);
    }

    /// @notice For an investor's order: with a `limit` (a buy on a limited instrument), reverts
    /// `Market__PositionLimit` if its position would pass it: its balance, its open orders' lots (either side), what
    /// it escrows in `desk` proposals, and these `lots`. Returns `ORDER_TRACKED`: the order's lots count towards the
    /// investor's open lots until cancelled or claimed.
    function checkPosition(
        IERC1155 allowance,
        IBlockTradeDesk desk,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        IMarket.Instrument storage ins,
        uint32 id,
        uint256 limit,
        uint32 lots
    ) public view returns (uint8) {
        if (limit == 0) return ORDER_TRACKED;
        uint256 open = uint256(openBuy[msg.sender][id]) + lots;
        if (address(desk) != address(0)) open += desk.escrowedLots(msg.sender, id);
        uint256 position = allowance.balanceOf(msg.sender, ins.tokenId) + open * ins.lotSize;
        if (position > limit) revert IMarket.Market__PositionLimit(msg.sender, id, position, limit);
        return ORDER_TRACKED;
    }

    /// @dev Whether the opposite side's best price crosses `tick`.
    function crosses(Book memory book, IMarket.Side side, uint24 tick) internal pure returns (bool) {
        return side == IMarket.Side.Buy ? (book.bestAsk != 0 && book.bestAsk <= tick) : (book.bestBid != 0 && book.bestBid >= tick);
    }

    /// @dev Queue `lots` at `tick` and return the new order's id.
    function rest(Storage storage s, Book memory book, Taker memory t) public returns (Book memory, uint256 orderId) {
        (uint32 id, IMarket.Side side, uint24 tick, uint32 lots) = (t.instrument, t.side, t.limit, t.left);
        uint256 key = MarketIds.levelKey(false, id, 0, side, tick);
        Level memory lv = s.levels[key];
        orderId = (key << 32) | lv.tail;
        if (lv.lots == 0) {
            s.bitmaps.set(MarketIds.bookBase(id, side), tick);
            if (side == IMarket.Side.Buy) {
                if (tick > book.bestBid) book.bestBid = tick;
            } else if (book.bestAsk == 0 || tick < book.bestAsk) {
                book.bestAsk = tick;
            }
        }
        ++lv.tail;
        lv.lots += lots;
        (lv.tickSize, lv.lotSize) = (uint64(t.tickSize), uint64(t.lotSize));
        s.levels[key] = lv;
        s.orders[orderId] = IMarket.Order(msg.sender, lots, 0, t.feeBps, t.flags);
        return (book, orderId);
    }

    /// @dev Take `lots` out of the level `stored` (a cancellation) whose lots are `lots + left`; empties the level
    /// and moves the best price if need be.
    function _leave(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        Level storage stored,
        uint32 id,
        IMarket.Side side,
        uint24 tick,
        uint64 left
    ) private {
        stored.lots = left;
        if (left != 0) return;
        stored.head = stored.tail;
        uint256 base = MarketIds.bookBase(id, side);
        s.bitmaps.unset(base, tick);
        Book storage book = books[id];
        if (side == IMarket.Side.Buy && book.bestBid == tick) {
            uint256 next = s.bitmaps.atOrBelow(base, tick - 1);
            book.bestBid = next == PriceBitmap.NONE ? 0 : uint24(next);
        } else if (side == IMarket.Side.Sell && book.bestAsk == tick) {
            uint256 next = s.bitmaps.atOrAbove(base, uint256(tick) + 1);
            book.bestAsk = next == PriceBitmap.NONE ? 0 : uint24(next);
        }
    }

    /// @notice Pay out a continuous order's unclaimed fills: the owner's money (a sell) or units (a buy), and the
    /// maker fee, charged now at the order's rate.
    function claim(
        Storage storage s,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        uint256 orderId,
        uint256 tickSize,
        uint256 lotSize
    ) public returns (uint256 money, uint256 units, uint256 fee) {
        IMarket.Order memory o = s.orders[orderId];
        if (o.filled == 0) return (0, 0, 0);
        if (o.remaining == 0 && o.flags & ORDER_SUSPENDED == 0) delete s.orders[orderId];
        else s.orders[orderId].filled = 0;
        return _payFills(openBuy, orderId, o, tickSize, lotSize);
    }

    /// @notice Cancel a continuous order: take what rests out of its level, and return its escrow and its
    /// unclaimed fills.
    function cancel(
        Storage storage s,
        mapping(uint32 => Book) storage books,
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        uint256 orderId
    ) public returns (uint256 money, uint256 units, uint256 fee) {
        IMarket.Order memory o = s.orders[orderId];
        (uint32 id, IMarket.Side side, uint24 tick) = MarketIds.level(orderId);
        Level storage stored = s.levels[MarketIds.levelKey(false, id, 0, side, tick)];
        Level memory lv = stored;
        if (inBook(o, uint32(orderId), lv.head)) _leave(s, books, stored, id, side, tick, lv.lots - o.remaining);
        delete s.orders[orderId];
        if (o.flags & ORDER_TRACKED != 0) openBuy[o.owner][id] -= o.remaining;
        emit IMarket.OrderCancelled(orderId, o.owner, o.remaining);
        (money, units, fee) = _payFills(openBuy, orderId, o, lv.tickSize, lv.lotSize);
        uint256 price = uint256(tick) * lv.tickSize;
        if (side == IMarket.Side.Buy) money += uint256(o.remaining) * (price + MarketMath.feePerLot(price, o.feeBps));
        else units += uint256(o.remaining) * lv.lotSize;
    }

    /// @dev What `o`'s unclaimed fills pay its owner, and the maker fee on them.
    function _payFills(
        mapping(address => mapping(uint32 => uint64)) storage openBuy,
        uint256 orderId,
        IMarket.Order memory o,
        uint256 tickSize,
        uint256 lotSize
    ) private returns (uint256 money, uint256 units, uint256 fee) {
        if (o.filled == 0) return (0, 0, 0);
        (uint32 id, IMarket.Side side, uint24 tick) = MarketIds.level(orderId);
        if (o.flags & ORDER_TRACKED != 0) openBuy[o.owner][id] -= o.filled;
        uint256 price = uint256(tick) * tickSize;
        fee = uint256(o.filled) * MarketMath.feePerLot(price, o.feeBps);
        if (side == IMarket.Side.Sell) money = uint256(o.filled) * price - fee;
        else units = uint256(o.filled) * lotSize;
        emit IMarket.OrderClaimed(orderId, o.owner, o.filled, money, units, fee);
    }
}
