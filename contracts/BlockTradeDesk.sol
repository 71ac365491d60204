// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {EscrowReceiver} from "./utils/EscrowReceiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IBlockTradeDesk} from "../interfaces/IBlockTradeDesk.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {ICreditToken} from "../interfaces/ICreditToken.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {Roles} from "./libraries/Roles.sol";
import {MarketMath} from "./libraries/MarketIds.sol";
import {TPlusOne} from "./libraries/TPlusOne.sol";

/// @title BlockTradeDesk
/// @notice The block trades of `IBlockTradeDesk`, under the rules and fee schedule of one `Market`.
/// @dev A separate contract so that the market's order book keeps its code-size budget. It holds the escrow of open
/// proposals and the fees of settled blocks, which are withdrawn to the market's fee recipient (pulled, never
/// pushed: a recipient that cannot receive never stops a trade).
contract BlockTradeDesk is IBlockTradeDesk, RegistryAccessControl, ReentrancyGuardTransient, EscrowReceiver, Initializable {
    using SafeERC20 for IERC20;

    IMarket private immutable _market;
    IERC1155 private immutable _allowance;
    IERC20 private immutable _money;
    ICreditToken private immutable _credit;

    uint256 private _blockCount;
    mapping(uint256 blockId => BlockTrade) private _blocks;
    /// @dev Accrued fees plus one (as in `Market`): the slot never returns to zero.
    uint256 private _feesPlusOne;
    /// @dev Lots investors escrow in open sell proposals, per instrument (they count towards positions).
    mapping(address account => mapping(uint32 instrument => uint64)) private _escrowed;
    /// @dev T+1: units block trades delivered to an account today, per instrument, packed as `units << 32 | day`;
    /// written only while the instrument's rule is on.
    mapping(address account => mapping(uint32 instrument => uint256)) private _bought;

    /// @dev A block's terms resolved against its instrument.
    struct Terms {
        uint256 tokenId;
        uint256 lotSize;
        uint256 tickSize;
        uint256 price;
        IMarket.Params params;
        bool tPlusOne;
    }

    /// @param registry_ the participant registry
    /// @param market_ the market whose instruments, parameters and fee rates apply
    /// @param allowance_ the carbon allowance (ERC-1155) the market trades
    /// @param money_ the settlement token (ERC-20)
    /// @param credit_ the credit token whose tiers gate block trades
    constructor(
        IParticipantRegistry registry_,
        IMarket market_,
        IERC1155 allowance_,
        IERC20 money_,
        ICreditToken credit_
    ) RegistryAccessControl(registry_) {
        _market = market_;
        _allowance = allowance_;
        _money = money_;
        _credit = credit_;
        initialize();
    }

    /// @notice Sets what the constructor would: run by the constructor (a direct deployment, or the implementation
    /// of a proxy, which thereby can never be initialized again) and once by a proxy when it is deployed, whose
    /// storage the constructor never sees. The immutables (registry, tokens) are the code's.
    function initialize() public initializer {
        _feesPlusOne = 1;
    }

    // ================================================================== trading

    /// @inheritdoc IBlockTradeDesk
    function propose(
        uint32 instrument,
        address counterparty,
        IMarket.Side side,
        uint32 lots,
        uint256 price,
        uint40 expiry
    ) external nonReentrant returns (uint256 blockId) {
        if (counterparty == msg.sender) revert BlockTrade__SelfTrade(msg.sender);
        if (expiry <= block.timestamp) revert BlockTrade__BadExpiry(expiry, block.timestamp);
        Terms memory terms = _terms(instrument, lots, 0, price);
        _requireActive(counterparty);
        _checkParty(msg.sender, lots, terms.params);
        uint16 feeBps = _market.feeRateOf(msg.sender);
        blockId = ++_blockCount;
        _blocks[blockId] = BlockTrade({
            proposer: msg.sender,
            instrument: instrument,
            lots: lots,
            proposerFeeBps: feeBps,
            proposerSide: side,
            counterparty: counterparty,
            expiry: expiry,
            priceTick: uint24(price / terms.tickSize)
        });
        emit BlockProposed(blockId, instrument, msg.sender, counterparty, side, lots, price, feeBps, expiry);
        if (side == IMarket.Side.Sell) {
            if (terms.tPlusOne) _checkSellable(msg.sender, instrument, terms, lots);
            if (_isInvestor(msg.sender)) _escrowed[msg.sender][instrument] += lots;
            _allowance.safeTransferFrom(msg.sender, address(this), terms.tokenId, lots * terms.lotSize, "");
        } else {
            uint256 value = lots * price;
            _money.safeTransferFrom(msg.sender, address(this), value + _fee(value, feeBps));
        }
    }

    /// @inheritdoc IBlockTradeDesk
    function accept(uint256 blockId) external nonReentrant {
        BlockTrade memory b = _open(blockId);
        if (msg.sender != b.counterparty) revert BlockTrade__NotParty(blockId, msg.sender);
        if (block.timestamp >= b.expiry) revert BlockTrade__Expired(blockId, b.expiry);
        Terms memory terms = _terms(b.instrument, b.lots, b.priceTick, 0);
        _checkParty(b.proposer, b.lots, terms.params);
        _checkParty(msg.sender, b.lots, terms.params);
        bool proposerSells = b.proposerSide == IMarket.Side.Sell;
        (address buyer, address seller) = proposerSells ? (msg.sender, b.proposer) : (b.proposer, msg.sender);
        _checkPosition(buyer, b.instrument, terms, b.lots);
        if (terms.tPlusOne) _tPlusOne(proposerSells, buyer, b.instrument, terms, b.lots);
        uint256 value = uint256(b.lots) * terms.price;
        uint16 acceptorBps = _market.feeRateOf(msg.sender);
        (uint256 buyerFee, uint256 sellerFee) = proposerSells
            ? (_fee(value, acceptorBps), _fee(value, b.proposerFeeBps))
            : (_fee(value, b.proposerFeeBps), _fee(value, acceptorBps));
        delete _blocks[blockId];
        _release(b);
        uint256 fees = buyerFee + sellerFee;
        if (fees != 0) _feesPlusOne += fees;
        emit BlockTraded(
            blockId, b.instrument, buyer, seller, b.lots, terms.price, buyerFee, sellerFee, _market.feeRecipient()
        );
        _settle(proposerSells, buyer, seller, terms, b.lots, value, buyerFee, sellerFee);
    }

    /// @inheritdoc IBlockTradeDesk
    function cancel(uint256 blockId) external nonReentrant {
        BlockTrade memory b = _open(blockId);
        if (msg.sender != b.proposer && block.timestamp < b.expiry) revert BlockTrade__NotParty(blockId, msg.sender);
        delete _blocks[blockId];
        _release(b);
        emit BlockCancelled(blockId, b.proposer, msg.sender);
        _returnEscrow(b, b.proposer);
    }

    /// @inheritdoc IBlockTradeDesk
    // slither-disable-next-line reentrancy-no-eth (nonReentrant; each block is deleted before its escrow is paid)
    function recoverBlocks(uint256[] calldata blockIds, address recovery)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        nonReentrant
    {
        _requireActive(recovery);
        IParticipantRegistry reg = registry();
        for (uint256 i; i < blockIds.length; ++i) {
            uint256 blockId = blockIds[i];
            BlockTrade memory b = _blocks[blockId];
            if (b.proposer == address(0)) continue; // settled, cancelled or recovered already
            if (reg.statusOf(b.proposer) != IParticipantRegistry.Status.Revoked) {
                revert BlockTrade__ProposerNotRevoked(blockId, b.proposer);
            }
            delete _blocks[blockId];
            _release(b);
            emit BlockRecovered(blockId, b.proposer, recovery);
            _returnEscrow(b, recovery);
        }
    }

    /// @inheritdoc IBlockTradeDesk
    function withdrawFees() external nonReentrant {
        uint256 amount;
        // the slot is at least one: it is set to one and only ever increased
        unchecked {
            amount = _feesPlusOne - 1;
        }
        _feesPlusOne = 1;
        address recipient = _market.feeRecipient();
        emit FeesWithdrawn(recipient, amount);
        if (amount != 0) _money.safeTransfer(recipient, amount);
    }

    // ================================================================== views

    /// @inheritdoc IBlockTradeDesk
    function escrowedLots(address account, uint32 instrument) external view returns (uint64) {
        return _escrowed[account][instrument];
    }

    /// @inheritdoc IBlockTradeDesk
    function boughtToday(address account, uint32 instrument) external view returns (uint256) {
        return TPlusOne.boughtToday(_bought, account, instrument);
    }

    /// @inheritdoc IBlockTradeDesk
    function feesAccrued() external view returns (uint256) {
        unchecked {
            return _feesPlusOne - 1; // never zero, see `_feesPlusOne`
        }
    }

    /// @inheritdoc IBlockTradeDesk
    function market() external view returns (IMarket) {
        return _market;
    }

    /// @inheritdoc IBlockTradeDesk
    function blockTrade(uint256 blockId) external view returns (BlockTrade memory) {
        return _blocks[blockId];
    }

    /// @inheritdoc IBlockTradeDesk
    function blockCount() external view returns (uint256) {
        return _blockCount;
    }

    /// @inheritdoc IBlockTradeDesk
    function priceLimits(uint32 instrument) external view returns (uint256 low, uint256 high) {
        IMarket.Instrument memory ins = _market.instrument(instrument);
        (uint24 lo, uint24 hi) = _band(ins, _market.params().blockBandBps);
        return (uint256(lo) * ins.tickSize, uint256(hi) * ins.tickSize);
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
        revert BlockTrade__UnexpectedTokens(operator);
    }

    // ================================================================== internal

    /// @dev An investor's escrowed sell leaves the count when its block settles, is cancelled or recovered.
    function _release(BlockTrade memory b) private {
        if (b.proposerSide != IMarket.Side.Sell) return;
        uint64 lots = _escrowed[b.proposer][b.instrument];
        // an account whose roles changed since it proposed may have less counted than the block holds
        if (lots != 0) _escrowed[b.proposer][b.instrument] = lots > b.lots ? lots - b.lots : 0;
    }

    /// @dev A pure investor (not also an enterprise): the one a position limit binds.
    function _isInvestor(address account) private view returns (bool) {
        return registry().rolesOf(account) & (Roles.INVESTOR | Roles.ENTERPRISE) == Roles.INVESTOR;
    }

    /// @dev Pay a withdrawn block's escrow (units, or money and the proposer's fee) to `to`.
    function _returnEscrow(BlockTrade memory b, address to) private {
        IMarket.Instrument memory ins = _market.instrument(b.instrument);
        if (b.proposerSide == IMarket.Side.Sell) {
            _allowance.safeTransferFrom(address(this), to, ins.tokenId, uint256(b.lots) * ins.lotSize, "");
        } else {
            uint256 value = uint256(b.lots) * b.priceTick * ins.tickSize;
            _money.safeTransfer(to, value + _fee(value, b.proposerFeeBps));
        }
    }

    /// @dev The block's instrument, price and the market's parameters, after the checks every block passes:
    /// market not paused, instrument listed, size at least the minimum, price on the grid and within the limits.
    /// The price is given in money units, or (when `priceTick` is non-zero) in ticks.
    function _terms(uint32 instrument, uint32 lots, uint24 priceTick, uint256 price)
        private
        view
        returns (Terms memory terms)
    {
        if (_market.paused()) revert BlockTrade__Paused();
        IMarket.Instrument memory ins = _market.instrument(instrument); // reverts Market__UnknownInstrument
        if (priceTick != 0) price = uint256(priceTick) * ins.tickSize;
        terms.params = _market.params();
        if (lots < terms.params.blockMinLots || lots == 0) revert BlockTrade__BadSize(lots, terms.params.blockMinLots);
        if (price == 0 || price % ins.tickSize != 0) revert BlockTrade__OffGrid(instrument, price, ins.tickSize);
        (uint24 low, uint24 high) = _band(ins, terms.params.blockBandBps);
        uint256 tick = price / ins.tickSize;
        if (tick < low || tick > high) {
            revert BlockTrade__PriceOutOfBand(
                instrument, price, uint256(low) * ins.tickSize, uint256(high) * ins.tickSize
            );
        }
        terms.tokenId = ins.tokenId;
        terms.lotSize = ins.lotSize;
        terms.tickSize = ins.tickSize;
        terms.price = price;
        terms.tPlusOne = ins.tPlusOne;
    }

    /// @dev An open block, or a revert.
    function _open(uint256 blockId) private view returns (BlockTrade memory b) {
        b = _blocks[blockId];
        if (b.proposer == address(0)) revert BlockTrade__UnknownBlock(blockId);
    }

    /// @dev Today's block-trade limits of an instrument, in ticks.
    function _band(IMarket.Instrument memory ins, uint16 bandBps) private view returns (uint24, uint24) {
        return MarketMath.band(MarketMath.referenceTick(ins, MarketMath.tradingDay(block.timestamp)), bandBps);
    }

    /// @dev A party must be active, in a credit tier allowed to trade blocks, and within the lowest tier's size.
    function _checkParty(address account, uint32 lots, IMarket.Params memory p) internal view virtual {
        _requireActive(account);
        uint8 tier = _credit.tierOf(account);
        if (tier < p.blockMinTier) revert BlockTrade__TierTooLow(account, tier, p.blockMinTier);
        if (tier == 0 && p.lowestTierMaxLots != 0 && lots > p.lowestTierMaxLots) {
            revert BlockTrade__TooLarge(account, lots, p.lowestTierMaxLots);
        }
    }

    /// @dev The market's investor position limit: the buyer's balance, its open orders in the market, what it
    /// escrows here, and the block.
    function _checkPosition(address buyer, uint32 instrument, Terms memory terms, uint32 lots) internal view virtual {
        uint256 limit = _market.positionLimit(instrument);
        if (limit == 0 || !_isInvestor(buyer)) return;
        uint256 open = uint256(_market.openBuyLots(buyer, instrument)) + _escrowed[buyer][instrument] + lots;
        uint256 position = _allowance.balanceOf(buyer, terms.tokenId) + open * terms.lotSize;
        if (position > limit) revert BlockTrade__PositionLimit(buyer, instrument, position, limit);
    }

    /// @dev T+1 on acceptance: an accepting seller may not sell units delivered to it today; the buyer's units are
    /// recorded as delivered today.
    function _tPlusOne(bool proposerSells, address buyer, uint32 instrument, Terms memory terms, uint32 lots) private {
        if (!proposerSells) _checkSellable(msg.sender, instrument, terms, lots);
        TPlusOne.add(_bought, buyer, instrument, uint256(lots) * terms.lotSize);
    }

    /// @dev T+1: `seller` may sell its balance less what was delivered to it today (the market's rule, shared).
    function _checkSellable(address seller, uint32 instrument, Terms memory terms, uint32 lots) private view {
        uint256 bought = _market.boughtToday(seller, instrument);
        if (bought == 0) return;
        uint256 balance = _allowance.balanceOf(seller, terms.tokenId);
        TPlusOne.requireSellable(seller, instrument, uint256(lots) * terms.lotSize, balance, bought);
    }

    /// @dev Both legs and the fees: the proposer's leg comes out of escrow, the acceptor's from its wallet; the fees
    /// stay in the desk.
    function _settle(
        bool proposerSells,
        address buyer,
        address seller,
        Terms memory terms,
        uint32 lots,
        uint256 value,
        uint256 buyerFee,
        uint256 sellerFee
    ) private {
        uint256 units = uint256(lots) * terms.lotSize;
        if (proposerSells) {
            uint256 fees = buyerFee + sellerFee;
            _money.safeTransferFrom(buyer, seller, value - sellerFee);
            if (fees != 0) _money.safeTransferFrom(buyer, address(this), fees);
            _allowance.safeTransferFrom(address(this), buyer, terms.tokenId, units, "");
        } else {
            _allowance.safeTransferFrom(seller, buyer, terms.tokenId, units, "");
            _money.safeTransfer(seller, value - sellerFee);
        }
    }

    /// @dev The fee on a block's whole value, rounded down (the book charges per lot because its fills, escrow and
    /// refunds must add up; a block settles once).
    function _fee(uint256 value, uint16 feeBps) private pure returns (uint256) {
        return MarketMath.feePerLot(value, feeBps);
    }
}
