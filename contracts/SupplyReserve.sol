// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ISupplyReserve} from "../interfaces/ISupplyReserve.sol";
import {IPrimaryAuction} from "../interfaces/IPrimaryAuction.sol";
import {ICarbonAllowance} from "../interfaces/ICarbonAllowance.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {Roles} from "./libraries/Roles.sol";
import {AllowanceId} from "./libraries/AllowanceId.sol";
import {MarketMath} from "./libraries/MarketIds.sol";

/// @title SupplyReserve
/// @notice The supply reserve and the cost containment reserve of `ISupplyReserve`. It mints the allowances it sells
/// (the allowance's issuer role) and sends their price straight to the primary auction's treasury.
contract SupplyReserve is ISupplyReserve, RegistryAccessControl, ReentrancyGuardTransient, Initializable {
    using SafeERC20 for IERC20;

    /// @notice The most vintages the supply reserve counts.
    uint256 public constant MAX_VINTAGES = 50;
    /// @notice The most containment tiers.
    uint256 public constant MAX_TIERS = 8;
    uint256 private constant _BPS = 10_000;

    ICarbonAllowance private immutable _allowance;
    IERC20 private immutable _money;
    IMarket private immutable _market;

    IPrimaryAuction private _auction;
    SupplyRules private _supplyRules;
    Supply private _supply;
    Tier[] private _tiers;
    uint32 private _containmentInstrument;
    mapping(uint256 key => uint48) private _tierSold;

    /// @param registry_ the participant registry
    /// @param allowance_ the carbon allowance whose circulation is counted and which this contract mints
    /// @param money_ the settlement token containment sales are paid in
    /// @param market_ the secondary market whose reference price triggers the containment tiers
    constructor(IParticipantRegistry registry_, ICarbonAllowance allowance_, IERC20 money_, IMarket market_)
        RegistryAccessControl(registry_)
    {
        _allowance = allowance_;
        _money = money_;
        _market = market_;
        initialize();
    }

    /// @notice Marks the part initialized (it has nothing else to set): run by the constructor (a direct deployment,
    /// or the implementation of a proxy) and once by a proxy when it is deployed, so no proxy of the suite is ever
    /// left uninitialized.
    function initialize() public initializer {}

    modifier onlyAuction() {
        if (msg.sender != address(_auction)) revert Reserve__NotAuction(msg.sender);
        _;
    }

    /// @inheritdoc ISupplyReserve
    function setAuction(address auction_) external onlyGovernor {
        if (address(_auction) != address(0)) revert Reserve__AuctionSet(address(_auction));
        if (auction_.code.length == 0) revert Reserve__BadRules("auction", uint256(uint160(auction_)));
        _auction = IPrimaryAuction(auction_);
        emit AuctionSet(auction_);
    }

    /// @inheritdoc ISupplyReserve
    function draw(uint48 requested)
        external
        onlyAuction
        returns (uint48 volume, uint48 withheld, uint48 released, uint48 carried)
    {
        Supply memory s = _supply;
        released = s.toRelease;
        carried = s.carried;
        uint256 base = uint256(requested) + carried + released;
        withheld = s.toWithhold < base ? s.toWithhold : uint48(base);
        uint256 offered = base - withheld;
        if (offered == 0 || offered > type(uint48).max) revert Reserve__NothingToOffer(requested, withheld);
        volume = uint48(offered);
        s.toWithhold -= withheld;
        s.carried = 0;
        s.toRelease = 0;
        _supply = s;
    }

    /// @inheritdoc ISupplyReserve
    function keepUnsold(uint48 unsold, bool toReserve) external onlyAuction {
        if (toReserve) _supply.reserve += unsold;
        else _supply.carried += unsold;
    }

    /// @inheritdoc ISupplyReserve
    function setSupplyRules(SupplyRules calldata rules) external onlyGovernor {
        if (rules.periodLength == 0) revert Reserve__BadRules("periodLength", 0);
        if (rules.vintages == 0 || rules.vintages > MAX_VINTAGES) revert Reserve__BadRules("vintages", rules.vintages);
        // slither-disable-next-line unused-return (the calls are the check: they revert for a vintage out of range)
        AllowanceId.allowance(rules.firstVintage);
        // slither-disable-next-line unused-return (as above, for the last vintage counted)
        AllowanceId.allowance(uint16(uint256(rules.firstVintage) + rules.vintages - 1));
        if (rules.lowerThreshold > rules.upperThreshold) revert Reserve__BadRules("lowerThreshold", rules.lowerThreshold);
        if (rules.intakeBps > _BPS) revert Reserve__BadRules("intakeBps", rules.intakeBps);
        _supplyRules = rules;
        emit SupplyRulesChanged(rules);
    }

    /// @inheritdoc ISupplyReserve
    function computeSupply() external returns (uint256 circulation_) {
        SupplyRules memory r = _supplyRules;
        if (r.periodLength == 0) revert Reserve__NoRules();
        uint32 period = _period(r);
        Supply memory s = _supply;
        if (block.timestamp < r.origin || period + 1 <= s.lastPeriod) revert Reserve__PeriodDone(period, s.lastPeriod);
        circulation_ = _circulation(r);
        uint48 intake = 0;
        uint48 release = 0;
        if (circulation_ > r.upperThreshold) {
            uint256 i = circulation_ * r.intakeBps / _BPS;
            intake = i > type(uint48).max - s.reserve ? type(uint48).max - s.reserve : uint48(i);
            s.reserve += intake;
            // a release not yet given to an auction is taken back first
            uint48 undo = s.toRelease < intake ? s.toRelease : intake;
            s.toRelease -= undo;
            s.toWithhold += intake - undo;
        } else if (circulation_ < r.lowerThreshold) {
            release = r.releaseVolume < s.reserve ? r.releaseVolume : s.reserve;
            s.reserve -= release;
            // an intake not yet withheld from an auction is given up first
            uint48 undo = s.toWithhold < release ? s.toWithhold : release;
            s.toWithhold -= undo;
            s.toRelease += release - undo;
        }
        s.lastPeriod = period + 1;
        _supply = s;
        emit SupplyComputed(period, circulation_, intake, release, s.reserve);
    }

    /// @inheritdoc ISupplyReserve
    function setContainment(uint32 referenceInstrument, Tier[] calldata tiers_) external onlyGovernor {
        if (tiers_.length > MAX_TIERS) revert Reserve__BadRules("tiers", tiers_.length);
        delete _tiers;
        uint64 previous = 0;
        for (uint256 i; i < tiers_.length; ++i) {
            Tier calldata t = tiers_[i];
            if (t.triggerPrice <= previous) revert Reserve__BadRules("triggerPrice", t.triggerPrice);
            previous = t.triggerPrice;
            _tiers.push(t);
        }
        _containmentInstrument = referenceInstrument;
        emit ContainmentTiersChanged(referenceInstrument, tiers_);
    }

    /// @inheritdoc ISupplyReserve
    function buyFromReserve(uint8 tier, uint16 vintage, uint48 quantity) external nonReentrant {
        if (tier >= _tiers.length) revert Reserve__UnknownTier(tier);
        if (_activeRoles(msg.sender) & Roles.ENTERPRISE == 0) revert Reserve__NotEnterprise(msg.sender);
        Tier storage t = _tiers[tier];
        uint256 trigger = t.triggerPrice;
        uint256 referencePrice = MarketMath.unitReference(_market, _containmentInstrument);
        if (referencePrice < trigger) revert Reserve__BelowTrigger(tier, referencePrice, trigger);
        uint256 key = (uint256(tier) << 32) | _period(_supplyRules);
        uint48 sold = _tierSold[key];
        uint256 available = t.perPeriod > sold ? t.perPeriod - sold : 0;
        if (t.remaining < available) available = t.remaining;
        if (quantity == 0 || quantity > available) revert Reserve__TierExhausted(tier, quantity, available);
        _tierSold[key] = sold + quantity;
        t.remaining -= quantity;
        emit ReserveSold(msg.sender, tier, vintage, quantity, trigger, referencePrice);
        _money.safeTransferFrom(msg.sender, _auction.treasury(), trigger * quantity);
        _allowance.mint(msg.sender, AllowanceId.allowance(vintage), quantity);
    }

    // ================================================================== views

    /// @inheritdoc ISupplyReserve
    function primaryAuction() external view returns (address) {
        return address(_auction);
    }

    /// @inheritdoc ISupplyReserve
    function supplyRules() external view returns (SupplyRules memory) {
        return _supplyRules;
    }

    /// @inheritdoc ISupplyReserve
    function supply() external view returns (Supply memory) {
        return _supply;
    }

    /// @inheritdoc ISupplyReserve
    function circulation() external view returns (uint256) {
        SupplyRules memory r = _supplyRules;
        if (r.vintages == 0) revert Reserve__NoRules();
        return _circulation(r);
    }

    /// @inheritdoc ISupplyReserve
    function tiers() external view returns (Tier[] memory) {
        return _tiers;
    }

    /// @inheritdoc ISupplyReserve
    function tierSold(uint8 tier, uint32 period) external view returns (uint48) {
        return _tierSold[(uint256(tier) << 32) | period];
    }

    /// @inheritdoc ISupplyReserve
    function currentPeriod() external view returns (uint32) {
        return _period(_supplyRules);
    }

    // ================================================================== internal

    function _period(SupplyRules memory r) internal view returns (uint32) {
        if (r.periodLength == 0 || block.timestamp < r.origin) return 0;
        return uint32((block.timestamp - r.origin) / r.periodLength);
    }

    /// @dev Supply of every counted vintage: minted less surrendered, retired, invalidated and clawed back.
    function _circulation(SupplyRules memory r) internal view returns (uint256 total) {
        for (uint256 i; i < r.vintages; ++i) {
            total += _allowance.totalSupply(AllowanceId.allowance(uint16(r.firstVintage + i)));
        }
    }
}
