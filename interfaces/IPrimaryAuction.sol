// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPrimaryAuction
/// @notice Sealed-bid, uniform-price primary auctions of allowances with commit and reveal, the regulator's way of
/// selling the cap (with the supply reserve of `ISupplyReserve`, which sets each auction's volume).
///
/// An auction runs on the clock: commitments until `commitEnd`, reveals until `revealEnd`, then anyone clears it in
/// bounded chunks. Bids are aggregated per price tick at reveal, so clearing walks occupied price levels, not bids.
/// The clearing price is the lowest accepted bid; bids above it fill in full and bids at it share what is left pro
/// rata (cumulative rounding in reveal order: every share is within one unit of the exact one, and the shares add up
/// exactly). Allowances are minted when winners claim, never pushed; losers and non-revealers claim their deposits.
/// Prices are money units per allowance unit (one tonne), quantities allowance units.
interface IPrimaryAuction {
    // ------------------------------------------------------------------ types

    /// @notice Open: commitments, then reveals, by the clock. Clearing: being cleared in chunks. Cleared: sold at
    /// the clearing price. Cancelled: nothing sold (no valid bid, or the price fell too far below the secondary
    /// market's reference): every revealed deposit is returned in full.
    enum Stage {
        None,
        Open,
        Clearing,
        Cleared,
        Cancelled
    }

    /// @notice The rules of one auction, fixed when it is offered.
    struct Rules {
        uint64 reservePrice; // the floor: a bid below it is refused at reveal
        uint64 tickSize; // bids are multiples of it
        uint40 commitEnd; // commitments until then
        uint40 revealEnd; // reveals until then; clearing after
        uint16 enterpriseLimitBps; // the most one enterprise may buy, in basis points of the volume
        uint16 investorLimitBps; // the same for an investor (a participant without the enterprise role)
        uint16 forfeitBps; // the share of an unrevealed commitment's deposit forfeited to the treasury
        uint16 maxDiscountBps; // how far below the secondary reference the clearing price may fall
        uint32 referenceInstrument; // the market's instrument giving the reference price (0: none, no minimum)
        bool cancelBelowMinimum; // below that minimum: cancel (EU) rather than sell less at or above it
        bool unsoldToReserve; // unsold volume goes to the supply reserve rather than to the next auction
    }

    /// @notice One auction's state.
    struct Auction {
        uint16 vintage;
        Stage stage;
        uint48 volume; // allowance units offered
        uint48 demand; // units revealed
        uint48 sold; // units sold (known once cleared)
        uint48 above; // units bid strictly above the clearing price
        uint48 atPrice; // units bid at the clearing price
        uint24 priceTick; // the clearing price in ticks (the lowest accepted bid)
        uint24 cursor; // clearing: the next tick to look at
        uint32 commitments;
        uint32 revealed;
        Rules rules;
    }

    /// @notice One sealed bid: the commitment, its deposit, and once revealed its price and quantity. `queue` is
    /// the demand revealed at the same price before it (the order of the pro-rata rounding).
    struct Bid {
        bytes32 commitment;
        address bidder;
        uint96 deposit; // zero once claimed
        uint24 tick;
        uint48 quantity; // zero until revealed
        uint48 queue;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown for an auction that was never offered.
    error Auction__UnknownAuction(uint256 auctionId);
    /// @notice Thrown when a rule or parameter is out of range; `name` says which.
    error Auction__BadRules(bytes32 name, uint256 value);
    /// @notice Thrown when an action comes outside its window (`from` <= now < `until`) or in the wrong stage.
    error Auction__OutOfWindow(uint256 auctionId, Stage stage, uint256 from, uint256 until, uint256 now);
    /// @notice Thrown when a participant who is neither an enterprise nor an investor bids.
    error Auction__NotBidder(address account, uint8 roles);
    /// @notice Thrown when a deposit is zero or does not fit 96 bits.
    error Auction__BadDeposit(uint256 deposit);
    /// @notice Thrown for a bid that does not exist.
    error Auction__UnknownBid(uint256 bidId);
    /// @notice Thrown when somebody other than the bidder reveals a bid.
    error Auction__NotBidOwner(uint256 bidId, address caller);
    /// @notice Thrown when a bid is revealed twice.
    error Auction__AlreadyRevealed(uint256 bidId);
    /// @notice Thrown when the revealed price, quantity and salt do not hash to the commitment.
    error Auction__CommitmentMismatch(uint256 bidId);
    /// @notice Thrown when a revealed price is zero or not a multiple of the tick size.
    error Auction__OffGrid(uint256 auctionId, uint256 price, uint64 tickSize);
    /// @notice Thrown when a revealed price is below the reserve price.
    error Auction__BelowReserve(uint256 auctionId, uint256 price, uint64 reservePrice);
    /// @notice Thrown when a revealed quantity is zero or above the volume.
    error Auction__BadQuantity(uint256 auctionId, uint256 quantity);
    /// @notice Thrown when the deposit does not cover price times quantity.
    error Auction__DepositShort(uint256 bidId, uint256 deposit, uint256 needed);
    /// @notice Thrown when a bidder's revealed quantities would exceed its purchase limit.
    error Auction__PurchaseLimit(uint256 auctionId, address bidder, uint256 quantity, uint256 limit);
    /// @notice Thrown when a bid is claimed twice.
    error Auction__AlreadyClaimed(uint256 bidId);
    /// @notice Thrown when an account withdraws settlement held for it and none is.
    error Auction__NothingHeld(address account, uint16 vintage);
    /// @notice Thrown when the regulator recovers what is held for a bidder that is not revoked.
    error Auction__BidderNotRevoked(address bidder);
    /// @notice Thrown when a batch is empty or longer than MAX_BATCH.
    error Auction__BadBatch(uint256 length, uint256 max);
    // ------------------------------------------------------------------ events

    /// @notice Emitted when an auction is offered; `volume` is `requested` plus what was carried and released,
    /// minus what was withheld for the supply reserve.
    event AuctionOffered(
        uint256 indexed auctionId, uint16 indexed vintage, uint48 requested, uint48 volume, uint48 withheld,
        uint48 released, uint48 carried, Rules rules
    );
    /// @notice Emitted when a sealed bid is committed with its deposit.
    event BidCommitted(uint256 indexed auctionId, uint256 indexed bidId, address indexed bidder, bytes32 commitment, uint256 deposit);
    /// @notice Emitted when a bid is revealed.
    event BidRevealed(uint256 indexed auctionId, uint256 indexed bidId, address indexed bidder, uint256 price, uint48 quantity);
    /// @notice Emitted when an auction is cleared: `sold` units at `price`; `unsold` goes to the reserve or the next
    /// auction.
    event AuctionCleared(
        uint256 indexed auctionId, uint256 price, uint48 sold, uint48 demand, uint48 unsold, bool unsoldToReserve
    );
    /// @notice Emitted when an auction sells nothing: no valid bid (`price` 0) or a clearing `price` below `minimum`.
    event AuctionCancelled(uint256 indexed auctionId, uint256 price, uint256 minimum, uint48 unsold, bool unsoldToReserve);
    /// @notice Emitted when a bid is claimed: `units` minted, `paid` to the treasury, `refund` returned, `forfeited`
    /// kept (an unrevealed commitment).
    event BidClaimed(
        uint256 indexed auctionId, uint256 indexed bidId, address indexed bidder, uint48 units, uint256 paid,
        uint256 refund, uint256 forfeited
    );
    /// @notice Emitted when a claimed bid's units and refund are held for its bidder instead of sent: the bidder is a
    /// contract (a claim never calls into a bidder's code, which could refuse, re-enter or burn a batch's gas) or is
    /// not active.
    event SettlementHeld(uint256 indexed bidId, address indexed bidder, uint48 units, uint256 refund);
    /// @notice Emitted when a bidder withdraws what was held for it.
    event HeldWithdrawn(address indexed bidder, uint16 indexed vintage, uint48 units, uint256 money);
    /// @notice Emitted when the regulator sends what was held for a revoked bidder to a recovery account.
    event HeldRecovered(address indexed bidder, uint16 indexed vintage, address indexed recovery, uint48 units, uint256 money);
    /// @notice Emitted when accrued proceeds are paid to the treasury.
    event ProceedsPaid(address indexed treasury, uint256 amount);
    /// @notice Emitted when the treasury changes.
    event TreasuryChanged(address previous, address current);
    // ------------------------------------------------------------------ auctions

    /// @notice Offer `volume` allowances of `vintage` under `rules` (auctioneer only). Returns the auction's id.
    function offer(uint16 vintage, uint48 volume, Rules calldata rules) external returns (uint256 auctionId);

    /// @notice Commit to a sealed bid with a deposit in money that will have to cover it (active enterprises and
    /// investors). `commitment` is `commitmentOf(auctionId, bidder, price, quantity, salt)`. Returns the bid's id.
    function commit(uint256 auctionId, bytes32 commitment, uint256 deposit) external returns (uint256 bidId);

    /// @notice Reveal a committed bid (its bidder, during the reveal window).
    function reveal(uint256 bidId, uint256 price, uint48 quantity, bytes32 salt) external;

    /// @notice Clear an auction after its reveal window, walking at most `maxSteps` price levels (anyone).
    /// Returns whether the auction is final (cleared or cancelled).
    function clear(uint256 auctionId, uint256 maxSteps) external returns (bool done);

    /// @notice Settle bids of final auctions (anyone, on the bidders' behalf): mint each winner's allowances, pay
    /// the treasury's share to the proceeds, return the rest of each deposit to its bidder.
    function claim(uint256[] calldata bidIds) external;

    /// @notice Withdraw the units of `vintage` and the money held for the caller (see `SettlementHeld`).
    function withdrawHeld(uint16 vintage) external;

    /// @notice Send the units of `vintage` and the money held for a revoked bidder to an active `recovery` account
    /// (regulator): held settlement is never stuck.
    function recoverHeld(address bidder, uint16 vintage, address recovery) external;

    /// @notice Pay the accrued proceeds and forfeits to the treasury (anyone).
    function payProceeds() external returns (uint256 amount);

    /// @notice Set where proceeds go (regulator).
    function setTreasury(address treasury) external;

    // ------------------------------------------------------------------ views

    /// @notice The hash a bidder commits to.
    function commitmentOf(uint256 auctionId, address bidder, uint256 price, uint48 quantity, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// @notice An auction's state.
    function auction(uint256 auctionId) external view returns (Auction memory);

    /// @notice How many auctions were offered.
    function auctionCount() external view returns (uint256);

    /// @notice A bid.
    function bid(uint256 bidId) external view returns (Bid memory);

    /// @notice The units a revealed bid receives once its auction is cleared (0 before, or if cancelled).
    function allocationOf(uint256 bidId) external view returns (uint48);

    /// @notice Units revealed at a price tick of an auction.
    function demandAt(uint256 auctionId, uint24 tick) external view returns (uint48);

    /// @notice Units of `vintage`, and money (of any auction), held for `account`.
    function held(address account, uint16 vintage) external view returns (uint48 units, uint256 money);

    /// @notice The treasury and the proceeds accrued for it.
    function treasury() external view returns (address);

    /// @notice Proceeds and forfeits accrued and not yet paid to the treasury.
    function proceeds() external view returns (uint256);
}
