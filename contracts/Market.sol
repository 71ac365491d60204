// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {EscrowReceiver} from "./utils/EscrowReceiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {IBlockTradeDesk} from "../interfaces/IBlockTradeDesk.sol";
import {Roles} from "./libraries/Roles.sol";
import {ICreditToken} from "../interfaces/ICreditToken.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {MarketIds, MarketMath, ORDER_TRACKED} from "./libraries/MarketIds.sol";
import {CallAuction} from "./libraries/CallAuction.sol";
import {OrderBook} from "./libraries/OrderBook.sol";
import {MarketParams} from "./libraries/MarketParams.sol";

/// @title Market
/// @notice The double-auction market of `IMarket`.
/// @dev Book layout (after Clober and Solady): orders rest in a FIFO queue per price level, and a level's order
/// ids encode instrument, side, price tick and queue position, so an order is one storage slot and a level one
/// more. A three-level bitmap finds the next occupied level. Fills only update the maker's slot; makers claim.
contract Market is IMarket, RegistryAccessControl, ReentrancyGuardTransient, EscrowReceiver, Initializable {
    using SafeERC20 for IERC20;

    /// @notice Lists instruments, runs call auctions, receives fees.
    bytes32 public constant EXCHANGE_ROLE = keccak256("EXCHANGE_ROLE");

    IERC1155 private immutable _allowance;
    IERC20 private immutable _money;
    ICreditToken private immutable _credit;

    MarketParams.Packed private _params;
    uint32 private _instrumentCount;
    address private _feeRecipient;
    /// @dev The block desk whose escrowed proposals count towards investors' positions (set once by the regulator).
    IBlockTradeDesk private _desk;
    /// @dev Accrued fees plus one: the slot never returns to zero, so the first fill after a withdrawal does not
    /// pay for setting a zero slot (20,000 gas more than updating one).
    uint256 private _feesPlusOne;

    mapping(uint32 => Instrument) private _instruments;
    mapping(uint32 => OrderBook.Book) private _books;
    mapping(uint256 tokenId => uint32) private _listed;
    OrderBook.Storage private _book;
    mapping(address => mapping(uint32 => uint64)) private _openBuy;
    CallAuction.Storage private _calls;

    /// @param registry_ the participant registry
    /// @param allowance_ the carbon allowance (ERC-1155)
    /// @param money_ the settlement token (ERC-20)
    /// @param credit_ the credit token whose tiers set privileges
    /// @param feeRecipient_ who receives the fees
    constructor(
        IParticipantRegistry registry_,
        IERC1155 allowance_,
        IERC20 money_,
        ICreditToken credit_,
        address feeRecipient_
    ) RegistryAccessControl(registry_) {
        _allowance = allowance_;
        _money = money_;
        _credit = credit_;
        initialize(feeRecipient_);
    }

    /// @notice Sets the fee recipient and the default parameters: run by the constructor (a direct deployment, or
    /// the implementation of a proxy, which thereby can never be initialized again) and once by a proxy when it is
    /// deployed, whose storage the constructor never sees. The immutables (registry, tokens) are the code's.
    /// @param feeRecipient_ who receives the fees
    function initialize(address feeRecipient_) public {
        // OpenZeppelin's `initializer` does not fit in this contract's code (24,576 bytes at most): the fee slot
        // is the flag, as it is set to one here and never returns to zero
        if (_feesPlusOne != 0) revert InvalidInitialization();
        _feeRecipient = feeRecipient_;
        _feesPlusOne = 1;
        MarketParams.setDefaults(_params);
    }

    // ================================================================== trading

    /// @inheritdoc IMarket
    function place(
        uint32 id,
        Side side,
        uint256 price,
        uint32 lots,
        bool immediateOrCancel,
        uint256 maxFills,
        uint16 maxFeeBps
    ) external nonReentrant returns (uint256 orderId) {
        MarketParams.Packed memory p = _params;
        if (p.paused) revert Market__Paused();
        Instrument storage ins = _instrument(id);
        _roll(ins, id);
        OrderBook.Book memory book = _books[id];
        OrderBook.Taker memory t = _enter(ins, id, side, price, lots, maxFills, book, p);
        _checkFee(t.feeBps, maxFeeBps);
        if (ins.phase != Phase.Continuous) {
            _checkCallEntry(ins, id, immediateOrCancel, maxFills);
            _books[id].sequence = t.sequence;
            return _placeCall(ins, t);
        }
        // a price that crosses nothing skips the matching library call
        if (OrderBook.crosses(book, side, t.limit)) (book, t) = OrderBook.matchTaker(_book, registry(), book, t);
        uint32 rested = 0;
        if (!immediateOrCancel && !t.selfMatch && t.left != 0 && !OrderBook.crosses(book, side, t.limit)) {
            rested = t.left;
            (book, orderId) = OrderBook.rest(_book, book, t);
        }
        book.sequence = t.sequence;
        _books[id] = book;
        _finish(ins, t, orderId, lots, rested);
    }

    /// @inheritdoc IMarket
    function cancel(uint256 orderId) external nonReentrant {
        // slither-disable-next-line unused-return (only the instrument is needed; side and tick are read from the level)
        (uint32 id,,) = MarketIds.level(orderId);
        Instrument storage ins = _instruments[id];
        (uint256 money, uint256 units, uint256 fee) = OrderBook.take(_book, _books, _openBuy, _calls, ins, orderId);
        if (fee != 0) _feesPlusOne += fee;
        if (money != 0) _money.safeTransfer(msg.sender, money);
        if (units != 0) _allowance.safeTransferFrom(address(this), msg.sender, ins.tokenId, units, "");
    }

    /// @inheritdoc IMarket
    function claim(uint256[] calldata orderIds) external nonReentrant {
        if (orderIds.length == 0) return;
        uint256 fees = OrderBook.claimBatch(_book, _openBuy, _calls, _instruments, orderIds, _money, _allowance);
        if (fees != 0) _feesPlusOne += fees;
    }

    /// @inheritdoc IMarket
    function returnOrders(uint256[] calldata orderIds) external returns (uint256 returned) {
        return _releaseOrders(orderIds, address(0));
    }

    /// @inheritdoc IMarket
    function recoverOrders(uint256[] calldata orderIds, address recovery) external returns (uint256 recovered) {
        return _releaseOrders(orderIds, recovery);
    }

    /// @dev The exchange returns stale orders to their owners (`recovery` zero), the regulator recovers revoked
    /// owners' orders to an active `recovery`.
    function _releaseOrders(uint256[] calldata orderIds, address recovery) private nonReentrant returns (uint256) {
        if (recovery == address(0)) {
            _checkRole(EXCHANGE_ROLE, msg.sender);
        } else {
            _checkRole(DEFAULT_ADMIN_ROLE, msg.sender);
            _requireActive(recovery);
        }
        (uint256 count, uint256 fees) = OrderBook.releaseBatch(
            _book,
            _books,
            _openBuy,
            _calls,
            _instruments,
            orderIds,
            OrderBook.Release(recovery, _params.bandBps, registry(), _money, _allowance)
        );
        if (fees != 0) _feesPlusOne += fees;
        return count;
    }

    // ================================================================== call auction

    /// @inheritdoc IMarket
    function openCall(uint32 id) external onlyRole(EXCHANGE_ROLE) {
        if (_params.paused) revert Market__Paused();
        Instrument storage ins = _instrument(id);
        if (ins.phase != Phase.Continuous) revert Market__WrongPhase(id, ins.phase);
        _roll(ins, id);
        ins.phase = Phase.Call;
        emit CallOpened(id, ins.round);
    }

    /// @inheritdoc IMarket
    function closeCall(uint32 id, uint256 maxSteps) external onlyRole(EXCHANGE_ROLE) {
        if (_params.paused) revert Market__Paused();
        Instrument storage ins = _instrument(id);
        if (ins.phase != Phase.Call) revert Market__WrongPhase(id, ins.phase);
        ins.phase = Phase.Clearing;
        uint32 round = ins.round;
        (uint64 totalBuy, uint64 totalSell) = CallAuction.start(_calls, _book.bitmaps, id, round);
        emit CallClosed(id, round, totalBuy, totalSell);
        _advance(ins, id, maxSteps);
    }

    /// @inheritdoc IMarket
    function advanceClearing(uint32 id, uint256 maxSteps) external returns (bool done) {
        Instrument storage ins = _instrument(id);
        if (ins.phase != Phase.Clearing) revert Market__WrongPhase(id, ins.phase);
        return _advance(ins, id, maxSteps);
    }

    // ================================================================== administration

    /// @inheritdoc IMarket
    function list(uint256 tokenId, uint64 lotSize, uint64 tickSize, uint64 referencePrice)
        external
        onlyRole(EXCHANGE_ROLE)
        returns (uint32 id)
    {
        id = MarketParams.list(_instruments, _listed, ++_instrumentCount, tokenId, lotSize, tickSize, referencePrice);
    }

    /// @inheritdoc IMarket
    function setPaused(bool paused_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        MarketParams.setPaused(_params, paused_);
    }

    /// @inheritdoc IMarket
    function setParams(Params calldata next) external onlyGovernor {
        MarketParams.update(_params, next);
    }

    /// @inheritdoc IMarket
    function setPositionLimit(uint32 id, uint64 units) external onlyGovernor {
        _instrument(id);
        MarketParams.setPositionLimit(_books[id], id, units);
    }

    /// @inheritdoc IMarket
    function setTPlusOne(uint32 id, bool on) external onlyGovernor {
        MarketParams.setTPlusOne(_instrument(id), id, on);
    }

    /// @inheritdoc IMarket
    function setDesk(IBlockTradeDesk desk_) external onlyGovernor {
        if (address(_desk) != address(0)) revert Market__BadDesk(address(desk_));
        _desk = desk_;
        emit DeskSet(address(desk_));
    }

    /// @inheritdoc IMarket
    function setFeeRecipient(address recipient) external {
        // the exchange (active), or else the regulator, who replaces a recipient that can no longer receive
        _checkRole(hasRole(EXCHANGE_ROLE, msg.sender) ? EXCHANGE_ROLE : DEFAULT_ADMIN_ROLE, msg.sender);
        _requireActive(recipient);
        emit FeeRecipientChanged(_feeRecipient, recipient);
        _feeRecipient = recipient;
    }

    /// @inheritdoc IMarket
    function withdrawFees() external onlyRole(EXCHANGE_ROLE) nonReentrant {
        uint256 amount;
        // the slot is at least one: it is set to one and only ever increased
        unchecked {
            amount = _feesPlusOne - 1;
        }
        _feesPlusOne = 1;
        address recipient = _feeRecipient;
        emit FeesWithdrawn(recipient, amount);
        if (amount != 0) _money.safeTransfer(recipient, amount);
    }

    // ================================================================== views

    /// @inheritdoc IMarket
    function instrument(uint32 id) external view returns (Instrument memory) {
        return _instrument(id);
    }

    /// @inheritdoc IMarket
    function instrumentCount() external view returns (uint32) {
        return _instrumentCount;
    }

    /// @inheritdoc IMarket
    function params() external view returns (Params memory) {
        return MarketParams.unpack(_params);
    }

    /// @inheritdoc IMarket
    function paused() external view returns (bool) {
        return _params.paused;
    }

    /// @inheritdoc IMarket
    function order(uint256 orderId) external view returns (Order memory) {
        return _book.orders[orderId];
    }

    /// @inheritdoc IMarket
    function bestTicks(uint32 id) external view returns (uint24 bid, uint24 ask) {
        return OrderBook.tradableBest(_book, _books[id], _instrument(id), id, _params.bandBps);
    }

    /// @inheritdoc IMarket
    function depth(uint32 id, Side side, uint24 tick) external view returns (uint64) {
        return OrderBook.tradableDepth(_book, _instrument(id), id, side, tick, _params.bandBps);
    }

    /// @inheritdoc IMarket
    function auction(uint32 id, uint32 round) external view returns (Auction memory) {
        return _calls.auctions[MarketIds.auctionKey(id, round)];
    }

    /// @inheritdoc IMarket
    function callDepth(uint32 id, uint32 round, uint24 tick) external view returns (uint64 buy, uint64 sell) {
        CallAuction.Level memory l = _calls.levels[MarketIds.callLevelKey(id, round, tick)];
        return (l.buy, l.sell);
    }

    /// @inheritdoc IMarket
    function feeRateOf(address account) external view returns (uint16) {
        return _feeRateFor(account, 0, _params); // no order: no order-size limit
    }

    /// @inheritdoc IMarket
    function feesAccrued() external view returns (uint256) {
        unchecked {
            return _feesPlusOne - 1; // never zero, see `_feesPlusOne`
        }
    }

    /// @inheritdoc IMarket
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc IMarket
    function positionLimit(uint32 id) external view returns (uint64) {
        return _books[id].positionLimit;
    }

    /// @inheritdoc IMarket
    function boughtToday(address account, uint32 id) external view returns (uint256) {
        return OrderBook.boughtToday(_book, _desk, account, id);
    }

    /// @inheritdoc IMarket
    function openBuyLots(address account, uint32 id) external view returns (uint64) {
        return _openBuy[account][id];
    }

    // ================================================================== ERC-1155 receiver

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || super.supportsInterface(interfaceId);
    }

    function _escrowedToken() internal view override returns (address) {
        return address(_allowance);
    }

    function _rejectTokens(address operator) internal pure override {
        revert Market__UnexpectedTokens(operator);
    }

    // ================================================================== internal: continuous book

    /// @dev Check an order (quantity, price grid and limits, sender active, tier size limit, position limit)
    /// and return it as a taker with its fee rate and sequence number.
    function _enter(
        Instrument storage ins,
        uint32 id,
        Side side,
        uint256 price,
        uint32 lots,
        uint256 maxFills,
        OrderBook.Book memory book,
        MarketParams.Packed memory p
    ) private view returns (OrderBook.Taker memory t) {
        if (lots == 0) revert Market__BadQuantity(lots);
        (uint24 tick, uint24 low, uint24 high) = _checkPrice(ins, id, price, p.bandBps);
        uint8 roles = _activeRoles(msg.sender);
        t.feeBps = _feeRateFor(msg.sender, lots, p);
        // an investor's orders are tracked whether or not a limit is set (a later limit sees them); only an
        // investor pays for the library call
        if (roles & (Roles.INVESTOR | Roles.ENTERPRISE) == Roles.INVESTOR) {
            t.flags = _positionFlags(ins, id, side == Side.Buy ? book.positionLimit : 0, lots);
        }
        if (ins.tPlusOne) {
            if (side == Side.Sell) _checkSellable(ins, id, lots);
            else t.tPlusOne = true;
        }
        t.instrument = id;
        t.side = side;
        t.limit = tick;
        t.low = low;
        t.high = high;
        t.left = lots;
        // a sequence of 2^64 orders is out of reach
        unchecked {
            t.sequence = book.sequence + 1;
        }
        t.price = price;
        t.tickSize = ins.tickSize;
        t.lotSize = ins.lotSize;
        t.maxFills = maxFills;
    }

    /// @dev After matching: last price, open buys, fees, the event, then the taker's transfers.
    function _finish(Instrument storage ins, OrderBook.Taker memory t, uint256 orderId, uint32 lots, uint32 rested) private {
        if (t.filled != 0) ins.lastTick = t.lastTick;
        if (t.flags & ORDER_TRACKED != 0 && rested != 0) _openBuy[msg.sender][t.instrument] += rested;
        if (t.fee != 0) _feesPlusOne += t.fee;
        emit OrderPlaced(t.instrument, msg.sender, orderId, t.sequence, t.side, t.price, lots, t.filled, rested, t.feeBps);
        _settleTaker(ins, t, rested);
    }

    /// @dev The taker's two transfers: pull what it pays (including the escrow of what rests), pay what it got.
    function _settleTaker(Instrument storage ins, OrderBook.Taker memory t, uint32 rested) private {
        uint256 lotSize = ins.lotSize;
        if (t.side == Side.Buy) {
            uint256 pay =
                t.money + t.fee + uint256(rested) * (t.price + MarketMath.feePerLot(t.price, t.feeBps));
            if (pay != 0) _money.safeTransferFrom(msg.sender, address(this), pay);
            if (t.filled != 0) {
                _allowance.safeTransferFrom(address(this), msg.sender, ins.tokenId, uint256(t.filled) * lotSize, "");
            }
        } else {
            uint256 units = (uint256(t.filled) + rested) * lotSize;
            if (units != 0) _allowance.safeTransferFrom(msg.sender, address(this), ins.tokenId, units, "");
            if (t.filled != 0) _money.safeTransfer(msg.sender, t.money - t.fee);
        }
    }

    // ================================================================== internal: call auction

    function _placeCall(Instrument storage ins, OrderBook.Taker memory t) private returns (uint256 orderId) {
        CallAuction.Entry memory e = CallAuction.Entry({
            instrument: t.instrument, round: ins.round, side: t.side, tick: t.limit, lots: t.left, feeBps: t.feeBps,
            flags: t.flags, sequence: t.sequence, price: t.price, tokenId: ins.tokenId, lotSize: ins.lotSize
        });
        return CallAuction.place(_calls, _book.bitmaps, _book.orders, _openBuy, e, _money, _allowance);
    }

    function _advance(Instrument storage ins, uint32 id, uint256 maxSteps) private returns (bool done) {
        uint24 newReference;
        (done, newReference) = CallAuction.advance(
            _calls, _book.bitmaps, _book.orders, id, ins.round, ins.referenceTick, _params.callMinTraders, maxSteps
        );
        if (!done) return false;
        ins.phase = Phase.Continuous;
        if (newReference != 0) {
            ins.referenceTick = newReference;
            ins.lastTick = newReference;
        }
        ++ins.round;
    }

    // ================================================================== internal: checks and helpers

    function _instrument(uint32 id) private view returns (Instrument storage ins) {
        ins = _instruments[id];
        if (ins.lotSize == 0) revert Market__UnknownInstrument(id);
    }

    function _today() private view returns (uint32) {
        return MarketMath.tradingDay(block.timestamp);
    }

    /// @dev On the first action of a new trading day the previous close becomes the reference price.
    function _roll(Instrument storage ins, uint32 id) private {
        uint32 today = _today();
        // slither-disable-next-line incorrect-equality (trading days are whole numbers: equality is the intended test)
        if (ins.day == today) return;
        ins.day = today;
        uint24 close = ins.lastTick;
        ins.referenceTick = close;
        emit ReferenceRolled(id, today, close);
    }

    /// @dev The price's tick and today's limits in ticks; reverts off the grid or outside the limits.
    function _checkPrice(Instrument storage ins, uint32 id, uint256 price, uint16 bandBps)
        private
        view
        returns (uint24 tick, uint24 low, uint24 high)
    {
        uint256 tickSize = ins.tickSize;
        if (price == 0 || price % tickSize != 0) revert Market__OffGrid(id, price, uint64(tickSize));
        (low, high) = MarketMath.band(ins.referenceTick, bandBps);
        uint256 t = price / tickSize;
        if (t < low || t > high) revert Market__PriceOutOfBand(id, price, uint256(low) * tickSize, uint256(high) * tickSize);
        tick = uint24(t);
    }

    /// @dev The sender's fee rate; enforces the lowest tier's order-size limit when `lots` is given.
    function _feeRateFor(address account, uint32 lots, MarketParams.Packed memory p) private view returns (uint16) {
        uint8 tier = _credit.tierOf(account);
        if (tier == 0 && lots > p.lowestTierMaxLots && p.lowestTierMaxLots != 0) {
            revert Market__OrderTooLarge(account, lots, p.lowestTierMaxLots);
        }
        return MarketParams.feeRate(p, tier);
    }

    /// @dev An order entering a call phase: neither immediate-or-cancel nor bounded (a clearing phase takes none).
    function _checkCallEntry(Instrument storage ins, uint32 id, bool immediateOrCancel, uint256 maxFills) private view {
        Phase phase = ins.phase;
        if (phase != Phase.Call) revert Market__WrongPhase(id, phase);
        if (immediateOrCancel || maxFills != 0) revert Market__CallOrderFlags(id, immediateOrCancel, maxFills);
    }

    /// @dev T+1: a sell may not include units delivered today (in a frame of its own: `_enter` has no stack to spare).
    function _checkSellable(Instrument storage ins, uint32 id, uint32 lots) private view {
        OrderBook.checkSellable(_book, _desk, _allowance, ins.tokenId, id, uint256(lots) * ins.lotSize);
    }

    /// @dev The taker's own bound on its fee rate (in a frame of its own: `place` has no stack to spare).
    function _checkFee(uint16 feeBps, uint16 maxFeeBps) private view {
        if (feeBps > maxFeeBps) revert Market__FeeAboveMax(msg.sender, feeBps, maxFeeBps);
    }

    /// @dev `OrderBook.checkPosition` for the sender (in a frame of its own: `_enter` has no stack to spare).
    function _positionFlags(Instrument storage ins, uint32 id, uint256 limit, uint32 lots) private view returns (uint8) {
        return OrderBook.checkPosition(_allowance, _desk, _openBuy, ins, id, limit, lots);
    }
}
