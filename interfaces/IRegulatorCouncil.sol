// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IRegulatorCouncil
/// @notice The approvers of a suite's governed actions (parameters, role grants, upgrades, new regulators). An action
/// is a batch of calls the timelock makes; it is scheduled on the timelock once `threshold` approvers have approved it,
/// and runs after the timelock's delay. Any approver may cancel a scheduled action before it runs.
interface IRegulatorCouncil {
    /// @notice Thrown when the caller is not an approver.
    error Council__NotApprover(address caller);
    /// @notice Thrown when an approver approves the same action twice.
    error Council__AlreadyApproved(bytes32 id, address approver);
    /// @notice Thrown when an action is approved after it was scheduled.
    error Council__AlreadyScheduled(bytes32 id);
    /// @notice Thrown when a cancelled action is approved again (propose the calls under another salt).
    error Council__Cancelled(bytes32 id);
    /// @notice Thrown when an action that is not scheduled is cancelled.
    error Council__NotScheduled(bytes32 id);
    /// @notice Thrown when approvers and threshold do not make a council of more than one approval.
    error Council__BadThreshold(uint256 threshold, uint256 approvers);
    /// @notice Thrown when an approver is listed twice or is the zero address.
    error Council__BadApprover(address approver);
    /// @notice Thrown when anyone but the timelock changes the council.
    error Council__OnlyTimelock(address caller);
    /// @notice Thrown when a batch's arrays differ in length or are empty.
    error Council__BadBatch(uint256 targets, uint256 values, uint256 payloads);

    /// @notice Emitted when an approver approves an action (the first approval proposes it).
    event ActionApproved(bytes32 indexed id, address indexed approver, uint256 approvals, uint256 threshold);
    /// @notice Emitted when an action reaches its threshold and is scheduled on the timelock.
    event ActionScheduled(bytes32 indexed id, uint256 readyAt);
    /// @notice Emitted when an approver cancels a scheduled action.
    event ActionCancelled(bytes32 indexed id, address indexed by);
    /// @notice Emitted when the timelock changes the approvers or the threshold.
    event ApproversChanged(address[] approvers, uint256 threshold);

    /// @notice Approve an action: calls `targets[i]` with `values[i]` and `payloads[i]`, identified with `salt` (the
    /// timelock's operation id, `hashOperationBatch(targets, values, payloads, 0, salt)`). The approval that reaches
    /// the threshold schedules it. Approvers only, once each.
    /// @return id the action's id on the timelock
    function approve(address[] calldata targets, uint256[] calldata values, bytes[] calldata payloads, bytes32 salt)
        external
        returns (bytes32 id);

    /// @notice Cancel a scheduled action before it runs. Any approver (one regulator can stop a change).
    function cancel(bytes32 id) external;

    /// @notice Replace the approvers and the threshold. The timelock only (a governed action itself).
    function setApprovers(address[] calldata approvers_, uint256 threshold_) external;

    /// @notice The timelock the council schedules on.
    function timelock() external view returns (address);

    /// @notice The approvers.
    function approvers() external view returns (address[] memory);

    /// @notice How many approvals schedule an action.
    function threshold() external view returns (uint256);

    /// @notice How many approvals action `id` has.
    function approvals(bytes32 id) external view returns (uint256);

    /// @notice Whether `approver` approved action `id`.
    function approved(bytes32 id, address approver) external view returns (bool);
}
