// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPrimaryAuction} from "../interfaces/IPrimaryAuction.sol";
import {ICarbonAllowance} from "../interfaces/ICarbonAllowance.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {ISupplyReserve} from "../interfaces/ISupplyReserve.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {Roles} from "./libraries/Roles.sol";
import {AllowanceId} from "./libraries/AllowanceId.sol";
import {PriceBitmap} from "./libraries/PriceBitmap.sol";
import {MarketMath} from "./libraries/MarketIds.sol";
import {UniformPrice} from "./libraries/UniformPrice.sol";

/// @title PrimaryAuction
/// @notice The sealed-bid uniform-price auctions of `IPrimaryAuction`. It holds bidders' deposits in escrow (a registered system participant) and
/// mints allowances (the allowance's issuer role); proceeds accrue for the treasury and are paid out in one transfer.
contract PrimaryAuction is IPrimaryAuction, RegistryAccessControl, ReentrancyGuardTransient, Initializable {
    using SafeERC20 for IERC20;

    /// @notice May offer auctions: the regulator, or the exchange on its behalf.
    bytes32 public constant AUCTIONEER_ROLE = keccak256("AUCTIONEER_ROLE");
    /// @notice The most bids one `claim` settles.
    uint256 public constant MAX_BATCH = 200;

    ICarbonAllowance private immutable _allowance;
    IERC20 private immutable _money;
    IMarket private immutable _market;
    ISupplyReserve private immutable _reserve;

    address private _treasury;
    uint256 private _proceeds;
    Auction[] private _auctions;
    mapping(uint256 bidId => Bid) private _bids;
    /// @dev Units revealed per (auction, tick), key `auctionId << 24 | tick`.
    mapping(uint256 key => uint48) private _demand;
    /// @dev The occupied ticks of every auction, one set per auction (`PriceBitmap` base = auction id).
    mapping(uint256 => uint256) private _ticks;
    mapping(uint256 auctionId => mapping(address bidder => uint48)) private _revealedBy;
    mapping(address bidder => uint256) private _heldMoney;
    mapping(address bidder => mapping(uint16 vintage => uint48)) private _heldUnits;

    /// @param registry_ the participant registry
    /// @param allowance_ the carbon allowance this contract mints
    /// @param money_ the settlement token of deposits and proceeds
    /// @param market_ the secondary market whose reference prices the rules compare against
    /// @param reserve_ the supply reserve that sets each auction's volume and keeps what is unsold
    /// @param treasury_ where proceeds go
    constructor(
        IParticipantRegistry registry_,
        ICarbonAllowance allowance_,
        IERC20 money_,
        IMarket market_,
        ISupplyReserve reserve_,
        address treasury_
    ) RegistryAccessControl(registry_) {
        _allowance = allowance_;
        _money = money_;
        _market = market_;
        _reserve = reserve_;
        initialize(treasury_);
    }

    /// @notice Sets what the constructor would: run by the constructor (a direct deployment, or the implementation
    /// of a proxy, which thereby can never be initialized again) and once by a proxy when it is deployed, whose
    /// storage the constructor never sees. The immutables (registry, tokens) are the code's.
    /// @param treasury_ where proceeds go
    function initialize(address treasury_) public initializer {
        _treasury = treasury_;
    }

    // ================================================================== auctions

    /// @inheritdoc IPrimaryAuction
    function offer(uint16 vintage, uint48 volume, Rules calldata rules)
        external
        onlyRole(AUCTIONEER_ROLE)
        returns (uint256 auctionId)
    {
        // slither-disable-next-line unused-return (the call is the check: it reverts for a vintage out of range)
        AllowanceId.allowance(vintage);
        _checkRules(rules);
        (uint48 offered, uint48 withheld, uint48 released, uint48 carried) = _reserve.draw(volume);
        auctionId = _auctions.length;
        Auction storage a = _auctions.push();
        a.vintage = vintage;
        a.stage = Stage.Open;
        a.volume = offered;
        a.rules = rules;
        emit AuctionOffered(auctionId, vintage, volume, offered, withheld, released, carried, rules);
    }

    /// @inheritdoc IPrimaryAuction
    function commit(uint256 auctionId, bytes32 commitment, uint256 deposit) external nonReentrant returns (uint256 bidId) {
        Auction storage a = _auction(auctionId);
        // an auction is open until its reveal window ends, so the commit window alone decides
        if (block.timestamp >= a.rules.commitEnd) {
            revert Auction__OutOfWindow(auctionId, a.stage, 0, a.rules.commitEnd, block.timestamp);
        }
        uint8 roles = _activeRoles(msg.sender);
        if (roles & (Roles.ENTERPRISE | Roles.INVESTOR) == 0) revert Auction__NotBidder(msg.sender, roles);
        if (deposit == 0 || deposit > type(uint96).max) revert Auction__BadDeposit(deposit);
        uint32 index = a.commitments++;
        bidId = (auctionId << 32) | index;
        _bids[bidId] = Bid({
            commitment: commitment, bidder: msg.sender, deposit: uint96(deposit), tick: 0, quantity: 0, queue: 0
        });
        emit BidCommitted(auctionId, bidId, msg.sender, commitment, deposit);
        _money.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IPrimaryAuction
    function reveal(uint256 bidId, uint256 price, uint48 quantity, bytes32 salt) external {
        Bid storage b = _bid(bidId);
        uint256 auctionId = bidId >> 32;
        Auction storage a = _auctions[auctionId];
        Rules memory r = a.rules;
        if (block.timestamp < r.commitEnd || block.timestamp >= r.revealEnd) {
            revert Auction__OutOfWindow(auctionId, a.stage, r.commitEnd, r.revealEnd, block.timestamp);
        }
        if (b.bidder != msg.sender) revert Auction__NotBidOwner(bidId, msg.sender);
        if (b.quantity != 0) revert Auction__AlreadyRevealed(bidId);
        if (b.commitment != _commitmentOf(auctionId, msg.sender, price, quantity, salt)) {
            revert Auction__CommitmentMismatch(bidId);
        }
        uint24 tick = _checkBid(auctionId, a.volume, r, bidId, b.deposit, price, quantity);
        uint48 revealed = _revealedBy[auctionId][msg.sender] + quantity;
        uint256 limit = UniformPrice.purchaseLimit(
            a.volume, _activeRoles(msg.sender) & Roles.ENTERPRISE != 0 ? r.enterpriseLimitBps : r.investorLimitBps
        );
        if (revealed > limit) revert Auction__PurchaseLimit(auctionId, msg.sender, revealed, limit);
        _revealedBy[auctionId][msg.sender] = revealed;
        uint256 key = (auctionId << 24) | tick;
        uint48 queue = _demand[key];
        if (queue == 0) PriceBitmap.set(_ticks, auctionId, tick);
        // queue + quantity <= demand <= the auction's volume times the bidders (each bounded by the volume): a
        // total over 2^48 units (a hundred times the world's yearly emissions) would need 2^48 / volume bidders
        _demand[key] = queue + quantity;
        a.demand += quantity;
        a.revealed += 1;
        b.tick = tick;
        b.quantity = quantity;
        b.queue = queue;
        emit BidRevealed(auctionId, bidId, msg.sender, price, quantity);
    }

    /// @inheritdoc IPrimaryAuction
    function clear(uint256 auctionId, uint256 maxSteps) external returns (bool done) {
        Auction storage a = _auction(auctionId);
        Stage stage = a.stage;
        if (stage == Stage.Cleared || stage == Stage.Cancelled) return true;
        if (block.timestamp < a.rules.revealEnd) {
            revert Auction__OutOfWindow(auctionId, stage, a.rules.revealEnd, type(uint40).max, block.timestamp);
        }
        uint256 floorTick = _floorTick(a.rules);
        uint256 cursor;
        if (stage == Stage.Open) {
            a.stage = Stage.Clearing;
            cursor = PriceBitmap.atOrBelow(_ticks, auctionId, type(uint24).max);
        } else {
            cursor = a.cursor == 0 ? PriceBitmap.NONE : a.cursor;
        }
        uint48 volume = a.volume;
        uint48 above = a.above; // demand of the levels walked so far, above `cursor`
        uint24 last = a.priceTick; // the lowest level walked so far
        for (uint256 step; step < maxSteps; ++step) {
            if (cursor == PriceBitmap.NONE || cursor < floorTick) {
                // every bid at or above the floor is accepted: the lowest of them sets the price
                if (last == 0) return _cancel(auctionId, a, 0, _minimumPrice(a.rules));
                uint48 atLast = _demand[(auctionId << 24) | last];
                return _settle(auctionId, a, last, above - atLast, atLast, above);
            }
            uint48 d = _demand[(auctionId << 24) | cursor];
            if (uint256(above) + d >= volume) return _settle(auctionId, a, uint24(cursor), above, d, volume);
            above += d;
            last = uint24(cursor);
            // an occupied tick is at least 1 (prices are positive), so `cursor - 1` does not wrap
            cursor = PriceBitmap.atOrBelow(_ticks, auctionId, cursor - 1);
        }
        a.above = above;
        a.priceTick = last;
        // tick 0 is never occupied (prices are positive), so 0 marks "no level left"
        a.cursor = cursor == PriceBitmap.NONE ? 0 : uint24(cursor);
        return false;
    }

    /// @inheritdoc IPrimaryAuction
    function claim(uint256[] calldata bidIds) external nonReentrant {
        uint256 n = bidIds.length;
        if (n == 0 || n > MAX_BATCH) revert Auction__BadBatch(n, MAX_BATCH);
        uint256 paidTotal = 0;
        for (uint256 i; i < n; ++i) {
            paidTotal += _claim(bidIds[i]);
        }
        _proceeds += paidTotal;
    }

    /// @inheritdoc IPrimaryAuction
    function withdrawHeld(uint16 vintage) external nonReentrant {
        (uint48 units, uint256 money) = _takeHeld(msg.sender, vintage);
        emit HeldWithdrawn(msg.sender, vintage, units, money);
        _payHeld(msg.sender, vintage, units, money);
    }

    /// @inheritdoc IPrimaryAuction
    function recoverHeld(address bidder, uint16 vintage, address recovery)
        external
        nonReentrant
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (registry().statusOf(bidder) != IParticipantRegistry.Status.Revoked) revert Auction__BidderNotRevoked(bidder);
        (uint48 units, uint256 money) = _takeHeld(bidder, vintage);
        emit HeldRecovered(bidder, vintage, recovery, units, money);
        _payHeld(recovery, vintage, units, money);
    }

    /// @inheritdoc IPrimaryAuction
    function payProceeds() external nonReentrant returns (uint256 amount) {
        amount = _proceeds;
        if (amount == 0) return 0;
        _proceeds = 0;
        address to = _treasury;
        emit ProceedsPaid(to, amount);
        _money.safeTransfer(to, amount);
    }

    /// @inheritdoc IPrimaryAuction
    function setTreasury(address treasury_) external onlyGovernor {
        if (treasury_ == address(0)) revert Auction__BadRules("treasury", 0);
        emit TreasuryChanged(_treasury, treasury_);
        _treasury = treasury_;
    }

    // ================================================================== views

    /// @inheritdoc IPrimaryAuction
    function commitmentOf(uint256 auctionId, address bidder, uint256 price, uint48 quantity, bytes32 salt)
        external
        pure
        returns (bytes32)
    {
        return _commitmentOf(auctionId, bidder, price, quantity, salt);
    }

    /// @inheritdoc IPrimaryAuction
    function auction(uint256 auctionId) external view returns (Auction memory) {
        return _auction(auctionId);
    }

    /// @inheritdoc IPrimaryAuction
    function auctionCount() external view returns (uint256) {
        return _auctions.length;
    }

    /// @inheritdoc IPrimaryAuction
    function bid(uint256 bidId) external view returns (Bid memory) {
        return _bid(bidId);
    }

    /// @inheritdoc IPrimaryAuction
    function allocationOf(uint256 bidId) external view returns (uint48) {
        Bid storage b = _bid(bidId);
        Auction storage a = _auctions[bidId >> 32];
        if (a.stage != Stage.Cleared) return 0;
        return UniformPrice.fill(b.tick, b.quantity, b.queue, a.priceTick, a.above, a.atPrice, a.sold);
    }

    /// @inheritdoc IPrimaryAuction
    function demandAt(uint256 auctionId, uint24 tick) external view returns (uint48) {
        return _demand[(auctionId << 24) | tick];
    }

    /// @inheritdoc IPrimaryAuction
    function held(address account, uint16 vintage) external view returns (uint48 units, uint256 money) {
        return (_heldUnits[account][vintage], _heldMoney[account]);
    }

    /// @inheritdoc IPrimaryAuction
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IPrimaryAuction
    function proceeds() external view returns (uint256) {
        return _proceeds;
    }







    // ================================================================== internal

    function _auction(uint256 auctionId) internal view returns (Auction storage) {
        if (auctionId >= _auctions.length) revert Auction__UnknownAuction(auctionId);
        return _auctions[auctionId];
    }

    function _bid(uint256 bidId) internal view returns (Bid storage b) {
        b = _bids[bidId];
        if (b.bidder == address(0)) revert Auction__UnknownBid(bidId);
    }

    function _commitmentOf(uint256 auctionId, address bidder, uint256 price, uint48 quantity, bytes32 salt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(auctionId, bidder, price, quantity, salt));
    }

    /// @dev The rules an auction may be offered under.
    function _checkRules(Rules calldata r) internal view virtual {
        if (r.tickSize == 0) revert Auction__BadRules("tickSize", 0);
        if (r.reservePrice % r.tickSize != 0) revert Auction__BadRules("reservePrice", r.reservePrice);
        if (r.commitEnd <= block.timestamp) revert Auction__BadRules("commitEnd", r.commitEnd);
        if (r.revealEnd <= r.commitEnd) revert Auction__BadRules("revealEnd", r.revealEnd);
        if (r.enterpriseLimitBps == 0 || r.enterpriseLimitBps > UniformPrice.BPS) {
            revert Auction__BadRules("enterpriseLimitBps", r.enterpriseLimitBps);
        }
        if (r.investorLimitBps > UniformPrice.BPS) revert Auction__BadRules("investorLimitBps", r.investorLimitBps);
        if (r.forfeitBps > UniformPrice.BPS) revert Auction__BadRules("forfeitBps", r.forfeitBps);
        if (r.maxDiscountBps >= UniformPrice.BPS) revert Auction__BadRules("maxDiscountBps", r.maxDiscountBps);
        // slither-disable-next-line unused-return (the call is the check: it reverts for an unknown instrument)
        if (r.referenceInstrument != 0) _market.instrument(r.referenceInstrument);
    }

    /// @dev A revealed bid's tick, after checking its price and quantity against the rules and its deposit.
    function _checkBid(
        uint256 auctionId,
        uint48 volume,
        Rules memory r,
        uint256 bidId,
        uint256 deposit,
        uint256 price,
        uint48 quantity
    ) internal pure returns (uint24) {
        uint256 t = price / r.tickSize;
        if (price == 0 || price % r.tickSize != 0 || t > type(uint24).max) {
            revert Auction__OffGrid(auctionId, price, r.tickSize);
        }
        if (price < r.reservePrice) revert Auction__BelowReserve(auctionId, price, r.reservePrice);
        if (quantity == 0 || quantity > volume) revert Auction__BadQuantity(auctionId, quantity);
        uint256 needed = price * quantity;
        if (deposit < needed) revert Auction__DepositShort(bidId, deposit, needed);
        return uint24(t);
    }

    /// @dev The lowest tick a clearing may accept: the reserve's, or with "sell less" the minimum's against the
    /// secondary reference.
    function _floorTick(Rules memory r) internal view returns (uint256) {
        uint256 floorPrice = r.reservePrice;
        if (!r.cancelBelowMinimum) {
            uint256 minimum = _minimumPrice(r);
            if (minimum > floorPrice) floorPrice = minimum;
        }
        return (floorPrice + r.tickSize - 1) / r.tickSize;
    }

    function _minimumPrice(Rules memory r) internal view returns (uint256) {
        if (r.referenceInstrument == 0) return 0;
        return UniformPrice.minimumPrice(MarketMath.unitReference(_market, r.referenceInstrument), r.maxDiscountBps);
    }


    /// @dev The auction sells `sold` units: `above` above the clearing tick, the rest shared at it.
    function _settle(uint256 auctionId, Auction storage a, uint24 priceTick, uint48 above, uint48 atPrice, uint48 sold)
        internal
        returns (bool)
    {
        Rules memory r = a.rules;
        uint256 price = uint256(priceTick) * r.tickSize;
        if (r.cancelBelowMinimum) {
            uint256 minimum = _minimumPrice(r);
            if (price < minimum) return _cancel(auctionId, a, price, minimum);
        }
        a.stage = Stage.Cleared;
        a.priceTick = priceTick;
        a.above = above;
        a.atPrice = atPrice;
        a.sold = sold;
        a.cursor = 0;
        uint48 unsold = a.volume - sold;
        _keepUnsold(unsold, r.unsoldToReserve);
        emit AuctionCleared(auctionId, price, sold, a.demand, unsold, r.unsoldToReserve);
        return true;
    }

    function _cancel(uint256 auctionId, Auction storage a, uint256 price, uint256 minimum) internal returns (bool) {
        a.stage = Stage.Cancelled;
        a.cursor = 0;
        a.priceTick = 0;
        a.above = 0;
        bool toReserve = a.rules.unsoldToReserve;
        _keepUnsold(a.volume, toReserve);
        emit AuctionCancelled(auctionId, price, minimum, a.volume, toReserve);
        return true;
    }

    /// @dev Unsold volume goes to the supply reserve or to the next auction.
    function _keepUnsold(uint48 unsold, bool toReserve) internal {
        if (unsold != 0) _reserve.keepUnsold(unsold, toReserve);
    }

    /// @dev Empties what is held for `holder` (its units of `vintage`, its money); reverts when nothing is.
    function _takeHeld(address holder, uint16 vintage) internal returns (uint48 units, uint256 money) {
        units = _heldUnits[holder][vintage];
        money = _heldMoney[holder];
        if (units == 0 && money == 0) revert Auction__NothingHeld(holder, vintage);
        _heldUnits[holder][vintage] = 0;
        _heldMoney[holder] = 0;
    }

    /// @dev Pays held settlement to `to` (the transfer and the mint check that `to` is active).
    function _payHeld(address to, uint16 vintage, uint48 units, uint256 money) internal {
        if (money != 0) _money.safeTransfer(to, money);
        if (units != 0) _allowance.mint(to, AllowanceId.allowance(vintage), units);
    }

    /// @dev Settles one bid of a final auction; returns what it adds to the proceeds.
    function _claim(uint256 bidId) internal returns (uint256 paid) {
        Bid storage b = _bid(bidId);
        uint256 auctionId = bidId >> 32;
        Auction storage a = _auctions[auctionId];
        Stage stage = a.stage;
        if (stage != Stage.Cleared && stage != Stage.Cancelled) {
            revert Auction__OutOfWindow(auctionId, stage, a.rules.revealEnd, type(uint40).max, block.timestamp);
        }
        uint256 deposit = b.deposit;
        if (deposit == 0) revert Auction__AlreadyClaimed(bidId);
        b.deposit = 0;
        address bidder = b.bidder;
        uint48 units = 0;
        uint256 forfeited = 0;
        if (b.quantity == 0) {
            forfeited = UniformPrice.forfeit(deposit, a.rules.forfeitBps);
            paid = forfeited;
        } else if (stage == Stage.Cleared) {
            units = UniformPrice.fill(b.tick, b.quantity, b.queue, a.priceTick, a.above, a.atPrice, a.sold);
            paid = uint256(units) * a.priceTick * a.rules.tickSize;
        }
        uint256 refund = deposit - paid;
        emit BidClaimed(auctionId, bidId, bidder, units, paid - forfeited, refund, forfeited);
        if (bidder.code.length != 0 || !registry().isActive(bidder)) {
            _heldMoney[bidder] += refund;
            if (units != 0) _heldUnits[bidder][a.vintage] += units;
            emit SettlementHeld(bidId, bidder, units, refund);
            return paid;
        }
        if (refund != 0) _money.safeTransfer(bidder, refund);
        if (units != 0) _allowance.mint(bidder, AllowanceId.allowance(a.vintage), units);
    }


}
