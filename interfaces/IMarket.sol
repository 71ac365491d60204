// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBlockTradeDesk} from "./IBlockTradeDesk.sol";

/// @title IMarket
/// @notice The double-auction market: a continuous limit-order book and a periodic call auction per instrument
/// (an allowance token id against the settlement token), with daily price limits, fees discounted by credit tier,
/// and supervision by the regulator. Makers are credited, not paid, when their orders fill: they (or anyone on
/// their behalf) claim. Prices are money units per lot and lie on the instrument's tick grid; quantities are lots.
interface IMarket {
    // ------------------------------------------------------------------ types

    enum Side {
        Buy,
        Sell
    }

    /// @notice Continuous: the order book matches. Call: orders collect without matching. Clearing: a closed call
    /// is being cleared in chunks.
    enum Phase {
        Continuous,
        Call,
        Clearing
    }

    /// @notice What an instrument trades and where its prices stand today.
    struct Instrument {
        uint256 tokenId;
        uint64 lotSize; // allowance units per lot
        uint64 tickSize; // money units per tick; a price is tick index x tickSize
        uint24 referenceTick; // the day's reference price (previous close), in ticks
        uint24 lastTick; // the last execution price, in ticks
        uint32 day; // trading day (China Standard Time) the reference belongs to
        Phase phase;
        uint32 round; // the current (or next) call auction's number
        bool tPlusOne; // units bought on a trading day are sold on the market from the next (regulator's switch)
    }

    /// @notice The market-wide parameters. Basis points throughout.
    struct Params {
        uint16 feeBps; // exchange fee on the money leg, paid by both sides
        uint16 bandBps; // price limit around the reference (default 1,000: +/-10%)
        uint16 blockBandBps; // block-trade limit around the reference (default 3,000: +/-30%)
        uint32 blockMinLots; // smallest block trade
        uint32 lowestTierMaxLots; // largest order of a participant in credit tier 0 (0: no limit)
        uint8 blockMinTier; // lowest credit tier that may trade blocks
        uint16[4] tierDiscountBps; // fee discount per credit tier 0..3
        uint8 callMinTraders; // distinct buyers, and sellers, a call needs for its price to become the reference
    }

    /// @notice A resting or claimable order of either book. `remaining` is what still rests (continuous) or what
    /// was entered (call); `filled` what filled and is not yet claimed (continuous only).
    struct Order {
        address owner;
        uint32 remaining;
        uint32 filled;
        uint16 feeBps;
        uint8 flags;
    }

    /// @notice The state of a call auction's clearing.
    struct Auction {
        uint64 totalBuy;
        uint64 totalSell;
        uint64 volume; // lots executed at the clearing price
        uint24 priceTick; // the clearing price (0 while unknown or without trade)
        uint8 stage; // 0 collecting, 1 pricing, 2 rationing, 3 cleared
        Side rationed; // the side rationed at the clearing price, if `rationing`
        bool rationing;
        uint24 cursor; // pricing: next tick to look at; rationing: unused
        uint32 boundary; // rationing: orders at the price before this index fill fully
        uint32 boundaryFill; // rationing: what the order at `boundary` fills
        uint64 marginal; // lots the rationed side executes at the clearing price
        uint32 buyers; // distinct owners with buy lots in the call (one side per owner and round)
        uint32 sellers; // distinct owners with sell lots in the call
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when an instrument number is not listed.
    error Market__UnknownInstrument(uint32 instrument);
    /// @notice Thrown when listing a token id that is not a well-formed allowance or offset id, or twice.
    error Market__BadListing(uint256 tokenId);
    /// @notice Thrown when a lot size, tick size or reference price of a listing is zero or too large.
    error Market__BadGrid(uint64 lotSize, uint64 tickSize, uint64 referencePrice);
    /// @notice Thrown when placing or matching while the regulator has paused the market.
    error Market__Paused();
    /// @notice Thrown when an operation needs another phase of the instrument.
    error Market__WrongPhase(uint32 instrument, Phase phase);
    /// @notice Thrown when a price is zero or not on the instrument's tick grid.
    error Market__OffGrid(uint32 instrument, uint256 price, uint64 tickSize);
    /// @notice Thrown when a price is outside the day's limits.
    error Market__PriceOutOfBand(uint32 instrument, uint256 price, uint256 low, uint256 high);
    /// @notice Thrown when an order is for zero lots or more than an order can hold.
    error Market__BadQuantity(uint256 lots);
    /// @notice Thrown when a participant of the lowest credit tier exceeds its order-size limit.
    error Market__OrderTooLarge(address account, uint256 lots, uint256 max);
    /// @notice Thrown when a buy would take an investor above its position limit for the instrument.
    error Market__PositionLimit(address account, uint32 instrument, uint256 position, uint256 limit);
    /// @notice Thrown when an order id does not exist (never placed, or fully claimed or cancelled).
    error Market__UnknownOrder(uint256 orderId);
    /// @notice Thrown when someone other than the owner cancels an order.
    error Market__NotOwner(uint256 orderId, address caller);
    /// @notice Thrown when a call order is claimed before its auction cleared.
    error Market__NotCleared(uint32 instrument, uint32 round);
    /// @notice Thrown when a parameter is out of its range.
    error Market__BadParam(bytes32 name, uint256 value);
    /// @notice Thrown when tokens arrive that the market did not ask for.
    error Market__UnexpectedTokens(address operator);
    /// @notice Thrown when an order entering a call phase asks for immediate-or-cancel or bounds its fills: neither
    /// means anything in a call, so neither is dropped silently (`maxFills` must be 0 there).
    error Market__CallOrderFlags(uint32 instrument, bool immediateOrCancel, uint256 maxFills);
    /// @notice Thrown when an owner enters a call on the side opposite to an order it already has in that round: it
    /// would clear with itself and set the reference price alone.
    error Market__CallSelfTrade(uint32 instrument, uint32 round, address owner);
    /// @notice Thrown when the block desk is set a second time.
    error Market__BadDesk(address desk);
    /// @notice Thrown when the regulator recovers an order whose owner is not revoked (it can cancel it itself).
    error Market__OwnerNotRevoked(uint256 orderId, address owner);
    /// @notice Thrown when the exchange returns an order that can still trade (a call order, or a continuous one
    /// in the book at a price inside today's limits).
    error Market__OrderTradable(uint256 orderId);
    /// @notice Thrown when the sender's fee rate (the market's rate after its credit tier's discount) is above the
    /// most it accepts for this order: a fee change that lands before the order does not charge it more.
    /// @notice Thrown under T+1 when a sell of `units` would sell units the market delivered to the account today:
    /// it can sell at most `sellable` (its balance less those) until the next trading day.
    error Market__BoughtToday(address account, uint32 instrument, uint256 units, uint256 sellable);
    error Market__FeeAboveMax(address account, uint16 feeBps, uint16 maxFeeBps);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the exchange lists an instrument.
    event InstrumentListed(uint32 indexed instrument, uint256 indexed tokenId, uint64 lotSize, uint64 tickSize, uint24 referenceTick);
    /// @notice Emitted when a new trading day sets the reference price to the previous close.
    event ReferenceRolled(uint32 indexed instrument, uint32 day, uint24 referenceTick);
    /// @notice Emitted when an order is entered: what filled on entry, what rests (under `orderId`, 0 if nothing),
    /// and the rest, `lots - filled - rested`, expired (immediate-or-cancel, self-match, or matching bound).
    event OrderPlaced(
        uint32 indexed instrument,
        address indexed owner,
        uint256 indexed orderId,
        uint64 sequence,
        Side side,
        uint256 price,
        uint32 lots,
        uint32 filled,
        uint32 rested,
        uint16 feeBps
    );
    /// @notice Emitted for each resting order a taker fills, at the resting order's price.
    event OrderFilled(uint256 indexed orderId, uint32 indexed instrument, address indexed taker, uint64 takerSequence, uint256 price, uint32 lots);
    /// @notice Emitted when a resting order of a participant who is no longer active leaves the book (its assets
    /// stay in escrow until the owner cancels it).
    event OrderSuspended(uint256 indexed orderId, address indexed owner, uint32 remaining);
    /// @notice Emitted when a taker meets a price level outside the day's limits (a narrower band, a new reference):
    /// the level leaves the book with its `lots`, and its orders at queue positions `head` to `tail - 1` that still
    /// rest wait in escrow for their owners to cancel them (or for the exchange to return them).
    event LevelWithdrawn(uint32 indexed instrument, Side side, uint24 tick, uint32 head, uint32 tail, uint64 lots);
    /// @notice Emitted when the exchange returns a stale order (out of the book, or priced outside today's limits)
    /// to its owner: `remaining` lots of escrow and its unclaimed fills.
    event OrderReturned(uint256 indexed orderId, address indexed owner, uint32 remaining);
    /// @notice Emitted when the regulator recovers the order of a revoked owner: its escrow and proceeds went to
    /// `recovery` (the order was cancelled, see `OrderCancelled`).
    event OrderRecovered(uint256 indexed orderId, address indexed owner, address recovery);
    /// @notice Emitted when an owner cancels an order; `remaining` lots are returned.
    event OrderCancelled(uint256 indexed orderId, address indexed owner, uint32 remaining);
    /// @notice Emitted when an order's fills are claimed: `lots` executed, paid out as `money` and `units`, `fee` charged.
    event OrderClaimed(uint256 indexed orderId, address indexed owner, uint32 lots, uint256 money, uint256 units, uint256 fee);
    /// @notice Emitted when the exchange opens a call phase.
    event CallOpened(uint32 indexed instrument, uint32 indexed round);
    /// @notice Emitted when the exchange closes a call phase and clearing starts.
    event CallClosed(uint32 indexed instrument, uint32 indexed round, uint64 totalBuy, uint64 totalSell);
    /// @notice Emitted when a call auction has cleared: one price for every execution, or no trade if volume is 0.
    event CallCleared(uint32 indexed instrument, uint32 indexed round, uint24 priceTick, uint64 volume, bool rationing, Side rationed, uint32 boundary, uint32 boundaryFill);
    /// @notice Emitted when a call traded but too few distinct buyers or sellers took part for its price to become
    /// the reference (`needed` each): the day's reference and last price stay.
    event ReferenceKept(uint32 indexed instrument, uint32 indexed round, uint32 buyers, uint32 sellers, uint8 needed);
    /// @notice Emitted when the regulator pauses or resumes the market.
    event PausedChanged(bool paused, address indexed by);
    /// @notice Emitted when the market-wide parameters change.
    event ParamsChanged(Params previous, Params current);
    /// @notice Emitted when the regulator sets an investor position limit (units; 0: none).
    event PositionLimitChanged(uint32 indexed instrument, uint64 previous, uint64 current);
    /// @notice Emitted when the regulator sets the block desk whose proposals count towards positions.
    event DeskSet(address desk);
    /// @notice Emitted when the regulator switches the T+1 rule of an instrument on or off.
    event TPlusOneChanged(uint32 indexed instrument, bool on);
    /// @notice Emitted when the fee recipient changes.
    event FeeRecipientChanged(address previous, address current);
    /// @notice Emitted when accrued fees are paid to the fee recipient.
    event FeesWithdrawn(address indexed recipient, uint256 amount);

    // ------------------------------------------------------------------ trading

    /// @notice Enter a limit order. In the continuous phase it first matches resting orders at their prices
    /// (price-time priority, at most `maxFills` resting orders touched), then rests what is left unless it is
    /// immediate-or-cancel, would trade with the sender's own order, or would leave the book crossed. In a call
    /// phase it only joins the call (and must then be neither immediate-or-cancel nor bounded: `maxFills` 0).
    /// Only levels inside today's limits trade; a crossed level outside them leaves the book. Pulls the order's
    /// assets in one transfer and pays what it bought in another. The fee rate the order pays on every fill, as
    /// taker now and as maker later, is fixed at entry and must not exceed `maxFeeBps`.
    /// @return orderId the resting or call order (0 if nothing rests)
    function place(
        uint32 instrument,
        Side side,
        uint256 price,
        uint32 lots,
        bool immediateOrCancel,
        uint256 maxFills,
        uint16 maxFeeBps
    ) external returns (uint256 orderId);

    /// @notice Cancel an order of the sender's and return what it still holds (and its unclaimed fills).
    /// Allowed while paused; refused for a call order while its auction clears.
    function cancel(uint256 orderId) external;

    /// @notice Pay out the fills of orders to their owners (anyone may call; each owner receives its own: list an
    /// owner's orders together and it is paid once).
    function claim(uint256[] calldata orderIds) external;

    /// @notice Return stale continuous orders to their owners (exchange): orders out of the book (suspended, or in
    /// a withdrawn level) or priced outside today's limits leave it and their escrow and unclaimed fills are paid
    /// back. Resumable: an order already gone is skipped, and so is one whose owner is not active or is a contract
    /// (no call into a participant's code from a batch); those owners cancel their own.
    /// @return returned how many orders were returned
    function returnOrders(uint256[] calldata orderIds) external returns (uint256 returned);

    /// @notice Cancel orders of revoked owners, who can never cancel them, and pay their escrow and unclaimed
    /// proceeds to `recovery` (regulator; `recovery` must be active). Continuous and call orders alike (a call
    /// order not while its auction clears). Resumable: an order already gone is skipped.
    /// @return recovered how many orders were recovered
    function recoverOrders(uint256[] calldata orderIds, address recovery) external returns (uint256 recovered);

    // ------------------------------------------------------------------ call auction

    /// @notice Open a call phase for an instrument (exchange).
    function openCall(uint32 instrument) external;

    /// @notice Close the call phase (exchange) and clear up to `maxSteps` steps.
    function closeCall(uint32 instrument, uint256 maxSteps) external;

    /// @notice Advance the clearing of a closed call by up to `maxSteps` steps (anyone).
    /// @return done whether the auction has cleared
    function advanceClearing(uint32 instrument, uint256 maxSteps) external returns (bool done);

    // ------------------------------------------------------------------ administration

    /// @notice List an instrument (exchange).
    function list(uint256 tokenId, uint64 lotSize, uint64 tickSize, uint64 referencePrice) external returns (uint32 instrument);

    /// @notice Pause or resume placing and matching (regulator).
    function setPaused(bool paused) external;

    /// @notice Replace the market-wide parameters (regulator).
    function setParams(Params calldata params) external;

    /// @notice Set an investor position limit for an instrument, in allowance units (regulator; 0 removes it). An
    /// investor's position is its balance, plus the lots of its open orders (resting or unclaimed, either side,
    /// tracked whether or not a limit was set when they were placed), plus what it escrows in block proposals.
    function setPositionLimit(uint32 instrument, uint64 units) external;

    /// @notice Switch the T+1 rule of an instrument (regulator), as on China's national market: while it is on,
    /// units the market delivers to an account on a trading day (a buy's fills, paid on entry, claim, cancel or
    /// return) cannot be sold on the market, in either phase, until the next trading day. Deliveries are recorded
    /// only while the rule is on.
    function setTPlusOne(uint32 instrument, bool on) external;

    /// @notice Set, once, the block desk whose escrowed proposals count towards investors' positions (regulator).
    function setDesk(IBlockTradeDesk desk) external;

    /// @notice Set who receives the fees of the market and of the block desk (the exchange, or the regulator, who
    /// replaces a recipient that can no longer receive). Fees accrue where they are earned and are withdrawn.
    function setFeeRecipient(address recipient) external;

    /// @notice Pay the accrued fees to the fee recipient (exchange).
    function withdrawFees() external;

    // ------------------------------------------------------------------ views

    /// @notice An instrument.
    function instrument(uint32 instrument) external view returns (Instrument memory);
    /// @notice How many instruments are listed (they are numbered from 1).
    function instrumentCount() external view returns (uint32);
    /// @notice The market-wide parameters.
    function params() external view returns (Params memory);
    /// @notice Whether the market is paused.
    function paused() external view returns (bool);
    /// @notice An order.
    function order(uint256 orderId) external view returns (Order memory);
    /// @notice The best bid and ask ticks of the continuous book that can trade today (0 if there is none).
    function bestTicks(uint32 instrument) external view returns (uint24 bid, uint24 ask);
    /// @notice The lots resting at a price level of the continuous book (0 outside today's limits).
    function depth(uint32 instrument, Side side, uint24 tick) external view returns (uint64 lots);
    /// @notice A call auction's state.
    function auction(uint32 instrument, uint32 round) external view returns (Auction memory);
    /// @notice Lots bought and sold at a price of a call auction.
    function callDepth(uint32 instrument, uint32 round, uint24 tick) external view returns (uint64 buy, uint64 sell);
    /// @notice The fee rate `account` pays now (the base fee less its credit tier's discount).
    function feeRateOf(address account) external view returns (uint16);
    /// @notice Fees accrued and not yet withdrawn.
    function feesAccrued() external view returns (uint256);
    /// @notice The fee recipient.
    function feeRecipient() external view returns (address);
    /// @notice An investor's position limit for an instrument (units; 0: none).
    function positionLimit(uint32 instrument) external view returns (uint64);
    /// @notice Lots of an investor's open orders in an instrument: resting or unclaimed buys, resting or unclaimed
    /// sells (a sell's filled lots count until claimed). They count towards its position.
    function openBuyLots(address account, uint32 instrument) external view returns (uint64);
    /// @notice Units of an instrument delivered to `account` today, by the market or the block desk, while T+1 was
    /// on (`instrument(id).tPlusOne`): they cannot be sold, on the market or in a block, before the next trading day.
    function boughtToday(address account, uint32 instrument) external view returns (uint256);
}
