// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title The credit token (ERC-20, 0 decimals)
/// @notice A governance instrument, not money: minted as a reward for good conduct and burned as a penalty
/// for bad, by the authorised rules contracts (and by the regulator, with a stated reason). The balance places
/// a participant in a credit tier, and the tier sets market privileges.
interface ICreditToken {
    // ------------------------------------------------------------------ errors

    /// @notice Thrown on a transfer while transfers between participants are disabled (the default).
    error Credit__TransfersDisabled();
    /// @notice Thrown when a reward, penalty or regulator action has a zero amount.
    error Credit__ZeroAmount();
    /// @notice Thrown when tier thresholds are too many, zero, too large or not strictly increasing.
    error Credit__InvalidThresholds(uint256 index, uint256 value);
    /// @notice Thrown when the regulator burns more than the account holds.
    error Credit__InsufficientBalance(address account, uint256 balance, uint256 needed);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a rules contract rewards `account`; `reason` is a short code (e.g. "COMPLIANCE_EARLY").
    event Rewarded(address indexed account, uint256 amount, bytes32 indexed reason, address indexed rules);
    /// @notice Emitted when a rules contract penalises `account`; `burned` may be less than `amount` (the balance).
    event Penalized(
        address indexed account, uint256 amount, uint256 burned, bytes32 indexed reason, address indexed rules
    );
    /// @notice Emitted when the regulator mints credit directly, with its reason.
    event RegulatorMinted(address indexed account, uint256 amount, string reason, address indexed regulator);
    /// @notice Emitted when the regulator burns credit directly, with its reason.
    event RegulatorBurned(address indexed account, uint256 amount, string reason, address indexed regulator);
    /// @notice Emitted when the tier thresholds change.
    event TierThresholdsChanged(uint256[] oldThresholds, uint256[] newThresholds);
    /// @notice Emitted when transfers between participants are enabled or disabled.
    event TransfersEnabledChanged(bool enabled);

    /// @notice Mint `amount` to active participant `account` as a reward. Rules contracts only.
    function reward(address account, uint256 amount, bytes32 reason) external;

    /// @notice Burn up to `amount` of `account`'s credit as a penalty (never more than it holds). Rules contracts only.
    /// @return burned what was actually burned
    function penalize(address account, uint256 amount, bytes32 reason) external returns (uint256 burned);

    /// @notice Mint credit directly, stating why. Regulator only.
    function regulatorMint(address account, uint256 amount, string calldata reason) external;

    /// @notice Burn credit directly, stating why. Regulator only.
    function regulatorBurn(address account, uint256 amount, string calldata reason) external;

    /// @notice Set the tier thresholds: a balance of at least `thresholds[i]` reaches tier `i + 1`. Regulator only.
    function setTierThresholds(uint256[] calldata thresholds) external;

    /// @notice Enable or disable transfers between active participants. Regulator only.
    function setTransfersEnabled(bool enabled) external;

    /// @notice The tier thresholds, strictly increasing.
    function tierThresholds() external view returns (uint256[] memory);

    /// @notice The credit tier of `account`: how many thresholds its balance reaches (0 = lowest).
    function tierOf(address account) external view returns (uint8);

    /// @notice Whether transfers between participants are enabled.
    function transfersEnabled() external view returns (bool);
}
