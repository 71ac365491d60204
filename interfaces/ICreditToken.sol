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
    /// @notice Thrown when a balance would pass 2^96 - 1 credit.
    error Credit__InvalidAmount(uint256 amount);
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
    /// @notice Emitted when a penalty exceeds the balance: `added` more is owed, `owed` in all; it is collected from
    /// the next credit that reaches the account (a penalty is never forgiven by moving credit away).
    event CreditOwed(address indexed account, uint256 added, uint256 owed);
    /// @notice Emitted when credit reaching an owing account pays `amount` of its debt (burned); `owed` remains.
    event OwedCollected(address indexed account, uint256 amount, uint256 owed);

    /// @notice Mint `amount` to active participant `account` as a reward. Rules contracts only.
    function reward(address account, uint256 amount, bytes32 reason) external;

    /// @notice Burn `amount` of `account`'s credit as a penalty: what it holds now, the rest owed and collected
    /// from the next credit that reaches it. Rules contracts only.
    /// @return burned what was burned now
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

    /// @notice The credit tier of `account`: how many thresholds its balance reaches (0 = lowest), not counting
    /// credit that arrived by transfer today (China Standard Time): a tier cannot be lent, the balance a transfer
    /// brings counts from the next trading day, and what is sent leaves at once.
    function tierOf(address account) external view returns (uint8);

    /// @notice Credit `account` owes from penalties larger than its balance.
    function owedOf(address account) external view returns (uint256);

    /// @notice Whether transfers between participants are enabled.
    function transfersEnabled() external view returns (bool);
}
