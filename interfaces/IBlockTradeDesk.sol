// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarket} from "./IMarket.sol";

/// @title IBlockTradeDesk
/// @notice Negotiated (block) trades of a market's instruments, outside the order book: one party proposes a
/// quantity and a price to a named counterparty and escrows its own leg; the counterparty accepts and both legs
/// settle at once. The market's parameters govern the desk: a block is at least `blockMinLots`, its price lies on
/// the instrument's tick grid within `blockBandBps` of the day's reference price, both parties are at least in
/// credit tier `blockMinTier`, each pays the market's fee at its tier's rate to the market's fee recipient, and
/// nothing is proposed or accepted while the market is paused. Block trades do not move the reference price.
interface IBlockTradeDesk {
    /// @notice A proposed block trade. `proposerFeeBps` is the proposer's fee rate when it proposed (its escrow
    /// covers that fee); the counterparty pays its rate when it accepts. Open while `proposer` is non-zero.
    struct BlockTrade {
        address proposer;
        uint32 instrument;
        uint32 lots;
        uint16 proposerFeeBps;
        IMarket.Side proposerSide;
        address counterparty;
        uint40 expiry; // the block can be accepted until just before this time
        uint24 priceTick; // the price is priceTick x the instrument's tick size
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when proposing or accepting while the regulator has paused the market.
    error BlockTrade__Paused();
    /// @notice Thrown when a participant's credit tier is below the one block trades need.
    error BlockTrade__TierTooLow(address account, uint8 tier, uint8 required);
    /// @notice Thrown when a block is smaller than the minimum (or above what a block can hold).
    error BlockTrade__BadSize(uint256 lots, uint256 min);
    /// @notice Thrown when a participant of the lowest credit tier exceeds its order-size limit.
    error BlockTrade__TooLarge(address account, uint256 lots, uint256 max);
    /// @notice Thrown when a price is zero or not on the instrument's tick grid.
    error BlockTrade__OffGrid(uint32 instrument, uint256 price, uint64 tickSize);
    /// @notice Thrown when a price is outside the block-trade limits around the day's reference price.
    error BlockTrade__PriceOutOfBand(uint32 instrument, uint256 price, uint256 low, uint256 high);
    /// @notice Thrown when an expiry is not in the future.
    error BlockTrade__BadExpiry(uint256 expiry, uint256 now_);
    /// @notice Thrown when a block id does not exist or is no longer open.
    error BlockTrade__UnknownBlock(uint256 blockId);
    /// @notice Thrown when a block is accepted at or after its expiry.
    error BlockTrade__Expired(uint256 blockId, uint256 expiry);
    /// @notice Thrown when someone other than the named counterparty accepts, or someone other than the proposer
    /// cancels an unexpired block.
    error BlockTrade__NotParty(uint256 blockId, address caller);
    /// @notice Thrown when a block names its proposer as the counterparty.
    error BlockTrade__SelfTrade(address account);
    /// @notice Thrown when a buy would take an investor above its position limit for the instrument.
    error BlockTrade__PositionLimit(address account, uint32 instrument, uint256 position, uint256 limit);
    /// @notice Thrown when tokens arrive that the desk did not ask for.
    error BlockTrade__UnexpectedTokens(address operator);
    /// @notice Thrown when the regulator recovers a block whose proposer is not revoked (it can cancel it itself).
    error BlockTrade__ProposerNotRevoked(uint256 blockId, address proposer);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a block is proposed; the proposer's leg (units, or money and its fee) is escrowed.
    event BlockProposed(
        uint256 indexed blockId,
        uint32 indexed instrument,
        address indexed proposer,
        address counterparty,
        IMarket.Side proposerSide,
        uint32 lots,
        uint256 price,
        uint16 proposerFeeBps,
        uint40 expiry
    );
    /// @notice Emitted when the counterparty accepts and the block settles: `lots` from seller to buyer at `price`,
    /// each paying its fee, which accrues in the desk for `feeRecipient` (the market's recipient at the time).
    event BlockTraded(
        uint256 indexed blockId,
        uint32 indexed instrument,
        address indexed buyer,
        address seller,
        uint32 lots,
        uint256 price,
        uint256 buyerFee,
        uint256 sellerFee,
        address feeRecipient
    );
    /// @notice Emitted when a block is withdrawn (by its proposer, or by anyone once expired) and the escrow
    /// returned to the proposer.
    event BlockCancelled(uint256 indexed blockId, address indexed proposer, address by);
    /// @notice Emitted when the regulator recovers the open block of a revoked proposer: its escrow went to
    /// `recovery`.
    event BlockRecovered(uint256 indexed blockId, address indexed proposer, address recovery);
    /// @notice Emitted when the desk's accrued fees are paid to the market's fee recipient.
    event FeesWithdrawn(address indexed recipient, uint256 amount);

    // ------------------------------------------------------------------ functions

    /// @notice Propose a block trade to `counterparty`: the sender takes `side` for `lots` lots at `price` (money
    /// units per lot) and escrows its leg: a seller its units, a buyer the money and its fee.
    /// @return blockId the proposal's number
    function propose(
        uint32 instrument,
        address counterparty,
        IMarket.Side side,
        uint32 lots,
        uint256 price,
        uint40 expiry
    ) external returns (uint256 blockId);

    /// @notice Accept a block proposed to the sender: the sender delivers the other leg and the trade settles.
    /// Every condition of a proposal is checked again (the reference price may have moved since).
    function accept(uint256 blockId) external;

    /// @notice Withdraw a block and return its escrow to the proposer: the proposer may at any time (also while
    /// the market is paused), anyone once the block has expired.
    function cancel(uint256 blockId) external;

    /// @notice Withdraw open blocks of revoked proposers, who can never cancel them, and pay their escrow to
    /// `recovery` (regulator; `recovery` must be active). Resumable: a block already gone is skipped.
    function recoverBlocks(uint256[] calldata blockIds, address recovery) external;

    /// @notice Pay the fees accrued by block trades to the market's fee recipient (anyone may call: only the
    /// recipient receives). A recipient that cannot receive stops only this call, never a trade: the regulator
    /// replaces it in the market.
    function withdrawFees() external;

    /// @notice Lots an investor escrows in open sell proposals of `instrument`: they count towards its position
    /// (`IMarket.setPositionLimit`).
    function escrowedLots(address account, uint32 instrument) external view returns (uint64);

    /// @notice Units of `instrument` block trades delivered to `account` today while the instrument's T+1 rule was on
    /// (`IMarket.boughtToday` adds the market's own): under the rule they are not sold before the next trading day.
    function boughtToday(address account, uint32 instrument) external view returns (uint256);

    /// @notice Fees accrued by block trades and not yet withdrawn.
    function feesAccrued() external view returns (uint256);

    /// @notice The market whose instruments and rules the desk uses.
    function market() external view returns (IMarket);

    /// @notice A block trade (all zero once settled or cancelled).
    function blockTrade(uint256 blockId) external view returns (BlockTrade memory);

    /// @notice How many blocks were proposed (they are numbered from 1).
    function blockCount() external view returns (uint256);

    /// @notice The prices a block of `instrument` may have now: the lowest and highest, in money units per lot.
    function priceLimits(uint32 instrument) external view returns (uint256 low, uint256 high);
}
