// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ICreditToken} from "../interfaces/ICreditToken.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {MarketMath} from "./libraries/MarketIds.sol";

/// @title CreditToken
/// @notice Credit points for conduct in the carbon market. A standard ERC-20 with 0 decimals, except that
/// only rules contracts and the regulator create and destroy it, and transfers are off until the regulator
/// enables them (then only between active participants).
/// @dev The tier thresholds are packed into one slot: up to 7 thresholds of 32 bits each, and their count in
/// the lowest byte, so `tierOf` costs one storage read.
contract CreditToken is ICreditToken, ERC20, RegistryAccessControl, Initializable {
    /// @notice May reward and penalise: the compliance and market rules contracts.
    bytes32 public constant RULES_ROLE = keccak256("RULES_ROLE");
    /// @notice The most thresholds, so the most tiers are `MAX_THRESHOLDS + 1`.
    uint256 public constant MAX_THRESHOLDS = 7;

    uint256 private constant _THRESHOLD_BITS = 32;
    uint256 private constant _THRESHOLD_MASK = type(uint32).max;

    /// @dev count in bits 0..7, threshold i in bits 8+32i .. 8+32i+31
    uint256 private _packedThresholds;
    bool private _transfersEnabled;

    /// @dev An account's credit in one slot, read whole by `tierOf` (as a plain balance would be) and written whole
    /// by every change: the balance, what it owes, and what arrived by transfer on trading day `day`.
    struct Ledger {
        uint96 balance;
        uint64 owed;
        uint32 day;
        uint64 received;
    }

    mapping(address account => Ledger) private _ledgers;
    uint256 private _supply;

    /// @param registry_ the participant registry
    /// @param thresholds the initial tier thresholds (strictly increasing)
    constructor(IParticipantRegistry registry_, uint256[] memory thresholds)
        ERC20("", "")
        RegistryAccessControl(registry_)
    {
        initialize(thresholds);
    }

    /// @notice Sets what the constructor would: run by the constructor (a direct deployment, or the implementation
    /// of a proxy, which thereby can never be initialized again) and once by a proxy when it is deployed, whose
    /// storage the constructor never sees. The immutables (registry, tokens) are the code's.
    /// @param thresholds the initial tier thresholds (strictly increasing)
    function initialize(uint256[] memory thresholds) public initializer {
        _setTierThresholds(thresholds);
    }

    /// @notice The token's name, in the code (a proxy never sees the storage ERC20's constructor writes).
    function name() public pure override returns (string memory) {
        return "Carbon Market Credit";
    }

    /// @notice The token's symbol, in the code.
    function symbol() public pure override returns (string memory) {
        return "CREDIT";
    }

    /// @notice Credit points are whole: 0 decimals.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    // ------------------------------------------------------------------ rules contracts

    /// @inheritdoc ICreditToken
    function reward(address account, uint256 amount, bytes32 reason) external onlyRole(RULES_ROLE) {
        if (amount == 0) revert Credit__ZeroAmount();
        _mint(account, amount);
        emit Rewarded(account, amount, reason, msg.sender);
    }

    /// @inheritdoc ICreditToken
    function penalize(address account, uint256 amount, bytes32 reason)
        external
        onlyRole(RULES_ROLE)
        returns (uint256 burned)
    {
        if (amount == 0) revert Credit__ZeroAmount();
        uint256 balance = balanceOf(account);
        burned = amount < balance ? amount : balance;
        if (burned != 0) _burn(account, burned);
        emit Penalized(account, amount, burned, reason, msg.sender);
        if (amount > burned) {
            Ledger storage l = _ledgers[account];
            uint256 owed = uint256(l.owed) + (amount - burned);
            // a penalty is at most the rules' bound; the owed total saturates far beyond any real debt
            l.owed = owed > type(uint64).max ? type(uint64).max : uint64(owed);
            emit CreditOwed(account, amount - burned, l.owed);
        }
    }

    // ------------------------------------------------------------------ regulator

    /// @inheritdoc ICreditToken
    function regulatorMint(address account, uint256 amount, string calldata reason)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (amount == 0) revert Credit__ZeroAmount();
        _mint(account, amount);
        emit RegulatorMinted(account, amount, reason, msg.sender);
    }

    /// @inheritdoc ICreditToken
    function regulatorBurn(address account, uint256 amount, string calldata reason)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (amount == 0) revert Credit__ZeroAmount();
        uint256 balance = balanceOf(account);
        if (balance < amount) revert Credit__InsufficientBalance(account, balance, amount);
        _burn(account, amount);
        emit RegulatorBurned(account, amount, reason, msg.sender);
    }

    /// @inheritdoc ICreditToken
    function setTierThresholds(uint256[] calldata thresholds) external onlyGovernor {
        _setTierThresholds(thresholds);
    }

    /// @inheritdoc ICreditToken
    function setTransfersEnabled(bool enabled) external onlyGovernor {
        _transfersEnabled = enabled;
        emit TransfersEnabledChanged(enabled);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICreditToken
    function tierThresholds() public view returns (uint256[] memory thresholds) {
        uint256 packed = _packedThresholds;
        uint256 n = packed & 0xff;
        thresholds = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            thresholds[i] = _thresholdAt(packed, i);
        }
    }

    /// @inheritdoc ICreditToken
    function tierOf(address account) external view returns (uint8 tier) {
        Ledger memory l = _ledgers[account];
        uint256 balance = l.balance;
        // credit that arrived by transfer today counts from tomorrow (`received` never exceeds the balance)
        // slither-disable-next-line incorrect-equality (trading days are whole numbers: equality is the intended test)
        if (l.day == MarketMath.tradingDay(block.timestamp)) balance -= l.received;
        uint256 packed = _packedThresholds;
        uint256 n = packed & 0xff;
        // thresholds are strictly increasing, so the tier is the count of thresholds reached
        while (tier < n && balance >= _thresholdAt(packed, tier)) {
            ++tier;
        }
    }

    /// @inheritdoc ICreditToken
    function owedOf(address account) external view returns (uint256) {
        return _ledgers[account].owed;
    }

    /// @notice The credit `account` holds.
    function balanceOf(address account) public view virtual override returns (uint256) {
        return _ledgers[account].balance;
    }

    /// @notice All credit in existence.
    function totalSupply() public view virtual override returns (uint256) {
        return _supply;
    }

    function transfersEnabled() external view returns (bool) {
        return _transfersEnabled;
    }

    // ------------------------------------------------------------------ internal

    function _setTierThresholds(uint256[] memory thresholds) internal virtual {
        uint256 n = thresholds.length;
        if (n > MAX_THRESHOLDS) revert Credit__InvalidThresholds(n, 0);
        uint256 packed = n;
        uint256 previous = 0;
        for (uint256 i; i < n; ++i) {
            uint256 value = thresholds[i];
            if (value <= previous || value > _THRESHOLD_MASK) revert Credit__InvalidThresholds(i, value);
            packed |= value << (8 + _THRESHOLD_BITS * i);
            previous = value;
        }
        uint256[] memory old = _packedThresholds == 0 ? new uint256[](0) : tierThresholds();
        _packedThresholds = packed;
        emit TierThresholdsChanged(old, thresholds);
    }

    function _thresholdAt(uint256 packed, uint256 i) private pure returns (uint256) {
        return (packed >> (8 + _THRESHOLD_BITS * i)) & _THRESHOLD_MASK;
    }

    /// @notice Approve `spender`; the owner must be active, and the spender too unless `value` is zero.
    function approve(address spender, uint256 value) public virtual override returns (bool) {
        _requireActive(_msgSender());
        if (value != 0) _requireActive(spender);
        return super.approve(spender, value);
    }

    /// @dev Mints need an active recipient; transfers need transfers enabled and active parties; burns are
    /// checked by the functions that burn.
    /// @dev The checks of every change (transfers enabled and between active participants; a mint to an active
    /// participant), then the ledgers: a debit spends today's transfers first; a credit pays what is owed first, and
    /// the rest of a transfer is marked as arrived today.
    function _update(address from, address to, uint256 value) internal virtual override {
        bool transfer = from != address(0) && to != address(0);
        if (transfer) {
            if (!_transfersEnabled) revert Credit__TransfersDisabled();
            _requireTransfer(_msgSender(), from, to);
        } else if (from == address(0)) {
            _requireActive(to);
        }
        if (from == address(0)) {
            _supply += value;
        } else {
            _debit(from, value);
        }
        emit Transfer(from, to, value);
        if (to == address(0)) {
            _supply -= value;
            return;
        }
        _credit(to, value, transfer);
    }

    /// @dev Take `value` from `from`: what arrived today goes first, so what is left of the day's start stays.
    function _debit(address from, uint256 value) private {
        Ledger storage l = _ledgers[from];
        uint96 balance = l.balance;
        if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
        // value <= balance, a uint96
        l.balance = balance - uint96(value);
        uint64 received = l.received;
        if (received != 0) l.received = value >= received ? 0 : received - uint64(value);
    }

    /// @dev Credit `value` to `to`: what it owes is collected (burned) first; the rest of a transfer is marked as
    /// arrived today, counting towards a tier from tomorrow.
    function _credit(address to, uint256 value, bool transfer) private {
        Ledger storage l = _ledgers[to];
        uint64 owed = l.owed;
        uint256 collected = 0;
        if (owed != 0) {
            collected = value < owed ? value : owed;
            // collected <= owed, a uint64
            owed -= uint64(collected);
            l.owed = owed;
            value -= collected;
            _supply -= collected;
        }
        uint96 balance = l.balance;
        if (value > type(uint96).max - balance) revert Credit__InvalidAmount(value);
        l.balance = balance + uint96(value);
        if (transfer) {
            uint32 today = MarketMath.tradingDay(block.timestamp);
            // today's transfers in stay below the balance, a uint96, and far below 2^64 for any real credit
            if (l.day != today) (l.day, l.received) = (today, uint64(value));
            else l.received += uint64(value);
        }
        if (collected != 0) {
            emit Transfer(to, address(0), collected);
            emit OwedCollected(to, collected, owed);
        }
    }
}
