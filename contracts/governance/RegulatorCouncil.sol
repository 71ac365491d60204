// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IRegulatorCouncil} from "../../interfaces/IRegulatorCouncil.sol";

/// @title RegulatorCouncil
/// @notice The several approvers of a suite's governed actions, in front of OpenZeppelin's TimelockController: the
/// council is the timelock's only proposer and a canceller, anyone may execute a scheduled action once its delay has
/// passed, and the timelock is the registry's governor (parameters, role grants, new regulators) and the owner of
/// every part's ProxyAdmin (upgrades). So a governed action needs `threshold` approvers and then the delay, during
/// which any approver may cancel it; emergency actions (pause, freeze) stay with a single regulator.
/// @dev Approvals are counted per action id; the calls themselves are not stored (each approver passes them, and
/// the id binds them), so an approval costs one slot and a bit.
contract RegulatorCouncil is IRegulatorCouncil {
    /// @notice The most approvers a council has, so that changing them stays a bounded loop.
    uint256 public constant MAX_APPROVERS = 16;

    TimelockController private immutable _timelock;

    address[] private _approvers;
    mapping(address account => bool) private _isApprover;
    uint256 private _threshold;
    /// @dev Each action's approvals, and whether it was cancelled (a cancelled id is not proposed again: its
    /// approvals would schedule it at the next one; the same calls go again under another salt). An approval counts
    /// for as long as the action lives, even if its approver leaves the council meanwhile.
    struct Action {
        uint64 approvals;
        bool cancelled;
    }

    mapping(bytes32 id => Action) private _actions;
    mapping(bytes32 id => mapping(address approver => bool)) private _approved;

    /// @param timelock_ the timelock the council proposes to (it must make the council a proposer and a canceller)
    /// @param approvers_ the approvers (distinct, at most `MAX_APPROVERS`)
    /// @param threshold_ how many approve an action (at least 2, at most the approvers)
    constructor(TimelockController timelock_, address[] memory approvers_, uint256 threshold_) {
        _timelock = timelock_;
        _setApprovers(approvers_, threshold_);
    }


    /// @inheritdoc IRegulatorCouncil
    function approve(address[] calldata targets, uint256[] calldata values, bytes[] calldata payloads, bytes32 salt)
        external
        returns (bytes32 id)
    {
        _requireApprover();
        if (targets.length == 0 || targets.length != values.length || targets.length != payloads.length) {
            revert Council__BadBatch(targets.length, values.length, payloads.length);
        }
        id = _timelock.hashOperationBatch(targets, values, payloads, 0, salt);
        Action storage action = _actions[id];
        if (action.cancelled) revert Council__Cancelled(id);
        if (_timelock.isOperation(id)) revert Council__AlreadyScheduled(id);
        if (_approved[id][msg.sender]) revert Council__AlreadyApproved(id, msg.sender);
        _approved[id][msg.sender] = true;
        uint64 count = ++action.approvals;
        emit ActionApproved(id, msg.sender, count, _threshold);
        if (count >= _threshold) {
            uint256 delay = _timelock.getMinDelay();
            _timelock.scheduleBatch(targets, values, payloads, 0, salt, delay);
            emit ActionScheduled(id, block.timestamp + delay);
        }
    }

    /// @inheritdoc IRegulatorCouncil
    function cancel(bytes32 id) external {
        _requireApprover();
        if (!_timelock.isOperationPending(id)) revert Council__NotScheduled(id);
        _actions[id].cancelled = true;
        _timelock.cancel(id);
        emit ActionCancelled(id, msg.sender);
    }

    /// @inheritdoc IRegulatorCouncil
    function setApprovers(address[] calldata approvers_, uint256 threshold_) external {
        if (msg.sender != address(_timelock)) revert Council__OnlyTimelock(msg.sender);
        _setApprovers(approvers_, threshold_);
    }

    /// @inheritdoc IRegulatorCouncil
    function timelock() external view returns (address) {
        return address(_timelock);
    }

    /// @inheritdoc IRegulatorCouncil
    function approvers() external view returns (address[] memory) {
        return _approvers;
    }

    /// @inheritdoc IRegulatorCouncil
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IRegulatorCouncil
    function approvals(bytes32 id) external view returns (uint256) {
        return _actions[id].approvals;
    }

    /// @inheritdoc IRegulatorCouncil
    function approved(bytes32 id, address approver) external view returns (bool) {
        return _approved[id][approver];
    }

    /// @dev One check for `approve` and `cancel`, not a modifier copied into each (the compiler shares the copies'
    /// code, so the second copy's branch would never run as itself).
    function _requireApprover() private view {
        if (!_isApprover[msg.sender]) revert Council__NotApprover(msg.sender);
    }

    function _setApprovers(address[] memory approvers_, uint256 threshold_) private {
        uint256 n = approvers_.length;
        if (threshold_ < 2 || threshold_ > n || n > MAX_APPROVERS) revert Council__BadThreshold(threshold_, n);
        for (uint256 i; i < _approvers.length; ++i) {
            delete _isApprover[_approvers[i]];
        }
        for (uint256 i; i < n; ++i) {
            address a = approvers_[i];
            if (a == address(0) || _isApprover[a]) revert Council__BadApprover(a);
            _isApprover[a] = true;
        }
        _approvers = approvers_;
        _threshold = threshold_;
        emit ApproversChanged(approvers_, threshold_);
    }
}
