// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ParticipantRegistry
/// @notice Who may act in the carbon market, and in which role. The admin manages the regulators; an
/// active regulator manages every other participant. Every change emits an event, so the registry's
/// whole history can be rebuilt from the chain.
contract ParticipantRegistry is IParticipantRegistry, Initializable {
    uint8 public constant ROLE_REGULATOR = Roles.REGULATOR;
    uint8 public constant ROLE_VERIFIER = Roles.VERIFIER;
    uint8 public constant ROLE_ENTERPRISE = Roles.ENTERPRISE;
    uint8 public constant ROLE_INVESTOR = Roles.INVESTOR;
    uint8 public constant ROLE_OFFSET_DEVELOPER = Roles.OFFSET_DEVELOPER;
    uint8 public constant ROLE_EXCHANGE = Roles.EXCHANGE;
    uint8 public constant ROLE_SYSTEM = Roles.SYSTEM;

    /// @notice The most entries `onboardBatch` takes in one call, so that a batch stays well inside a block.
    uint256 public constant MAX_BATCH = 200;

    address private _admin;
    address private _pendingAdmin;
    mapping(address account => Participant) private _participants;
    mapping(address account => bytes32 group) private _groups;
    /// @dev The timelock the suite was handed to; zero while every active regulator governs.
    address private _governor;

    /// @param initialAdmin the top admin, who onboards the first regulator
    constructor(address initialAdmin) {
        initialize(initialAdmin);
    }

    /// @notice Sets what the constructor would: run by the constructor (a direct deployment, or the implementation
    /// of a proxy, which thereby can never be initialized again) and once by a proxy when it is deployed, whose
    /// storage the constructor never sees. The immutables (registry, tokens) are the code's.
    /// @param initialAdmin the top admin, who onboards the first regulator
    function initialize(address initialAdmin) public initializer {
        if (initialAdmin == address(0)) revert Registry__ZeroAddress();
        _admin = initialAdmin;
        emit AdminTransferred(address(0), initialAdmin);
    }

    // ------------------------------------------------------------------ admin (two-step)

    /// @inheritdoc IParticipantRegistry
    function admin() external view returns (address) {
        return _admin;
    }

    /// @inheritdoc IParticipantRegistry
    function pendingAdmin() external view returns (address) {
        return _pendingAdmin;
    }

    /// @inheritdoc IParticipantRegistry
    function proposeAdmin(address proposed) external {
        if (msg.sender != _admin) revert Registry__Unauthorized(msg.sender);
        _pendingAdmin = proposed;
        emit AdminTransferProposed(msg.sender, proposed);
    }

    /// @inheritdoc IParticipantRegistry
    function acceptAdmin() external {
        address pending = _pendingAdmin;
        // with no admin proposed, pending is the zero address, which no caller is
        if (msg.sender != pending) revert Registry__NotPendingAdmin(msg.sender, pending);
        address previous = _admin;
        _admin = pending;
        delete _pendingAdmin;
        emit AdminTransferred(previous, pending);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IParticipantRegistry
    function handOver(address governor_) external {
        if (msg.sender != _admin) revert Registry__Unauthorized(msg.sender);
        if (governor_.code.length == 0) revert Registry__GovernorWithoutCode(governor_);
        emit GovernorSet(_governor, governor_);
        _governor = governor_;
        emit AdminTransferred(_admin, governor_);
        _admin = governor_;
        delete _pendingAdmin;
    }

    /// @inheritdoc IParticipantRegistry
    function governor() external view returns (address) {
        return _governor;
    }

    /// @inheritdoc IParticipantRegistry
    function isGovernor(address account) external view returns (bool) {
        address governor_ = _governor;
        if (governor_ != address(0)) return account == governor_;
        Participant storage p = _participants[account];
        return p.status == Status.Active && p.roles & Roles.REGULATOR != 0;
    }

    /// @inheritdoc IParticipantRegistry
    function requireGovernor(address account) external view {
        address governor_ = _governor;
        if (governor_ == address(0)) {
            _requireRole(account, Roles.REGULATOR);
        } else if (account != governor_) {
            revert Registry__NotGovernor(account, governor_);
        }
    }

    // ------------------------------------------------------------------ participant management

    /// @inheritdoc IParticipantRegistry
    function onboard(Onboarding calldata entry) external {
        _onboard(entry);
    }

    /// @inheritdoc IParticipantRegistry
    function onboardBatch(Onboarding[] calldata entries) external {
        uint256 n = entries.length;
        if (n == 0 || n > MAX_BATCH) revert Registry__BadBatchSize(n, MAX_BATCH);
        for (uint256 i; i < n; ++i) {
            _onboard(entries[i]);
        }
    }

    /// @inheritdoc IParticipantRegistry
    function update(Onboarding calldata entry) external {
        Participant storage record = _participants[entry.account];
        Status status = record.status;
        if (status == Status.None) revert Registry__NotRegistered(entry.account);
        uint8 oldRoles = record.roles;
        _authorize(entry.account, oldRoles | entry.roles);
        _checkRoles(entry.roles);
        record.roles = entry.roles;
        record.region = entry.region;
        record.sector = entry.sector;
        record.updatedAt = uint40(block.timestamp);
        record.identityHash = entry.identityHash;
        emit ParticipantUpdated(
            entry.account, oldRoles, entry.roles, entry.identityHash, entry.region, entry.sector, msg.sender
        );
    }

    /// @inheritdoc IParticipantRegistry
    function declareGroup(address account, bytes32 group) external {
        Participant storage record = _participants[account];
        if (record.status == Status.None) revert Registry__NotRegistered(account);
        _authorize(account, record.roles);
        bytes32 previous = _groups[account];
        _groups[account] = group;
        emit GroupDeclared(account, previous, group, msg.sender);
    }

    /// @inheritdoc IParticipantRegistry
    function freeze(address account, bytes32 reasonHash) external {
        _changeStatus(account, Status.Active, Status.Active, Status.Frozen, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function unfreeze(address account, bytes32 reasonHash) external {
        _changeStatus(account, Status.Frozen, Status.Frozen, Status.Active, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function revoke(address account, bytes32 reasonHash) external {
        _changeStatus(account, Status.Active, Status.Frozen, Status.Revoked, reasonHash);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function statusOf(address account) external view returns (Status) {
        return _participants[account].status;
    }

    /// @inheritdoc IParticipantRegistry
    function rolesOf(address account) external view returns (uint8) {
        return _participants[account].roles;
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account) external view returns (bool) {
        // slither-disable-next-line incorrect-equality (an enum state, not a balance or a time)
        return _participants[account].status == Status.Active;
    }

    /// @inheritdoc IParticipantRegistry
    function hasRole(address account, uint8 roleMask) external view returns (bool) {
        Participant storage record = _participants[account];
        return record.status == Status.Active && record.roles & roleMask != 0;
    }

    /// @inheritdoc IParticipantRegistry
    function requireActive(address account) external view returns (uint8 roles) {
        Participant storage record = _participants[account];
        Status status = record.status;
        if (status != Status.Active) revert Registry__NotActive(account, status);
        return record.roles;
    }

    /// @inheritdoc IParticipantRegistry
    function requireRole(address account, uint8 roleMask) external view {
        _requireRole(account, roleMask);
    }

    /// @inheritdoc IParticipantRegistry
    function requireTransfer(address operator, address from, address to) external view {
        _requireActive(from);
        _requireActive(to);
        if (operator != from) _requireActive(operator);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Writes a new active record. Override to add checks on who may be onboarded.
    function _onboard(Onboarding calldata entry) internal virtual {
        address account = entry.account;
        if (account == address(0)) revert Registry__ZeroAddress();
        _authorize(account, entry.roles);
        _checkRoles(entry.roles);
        Participant storage record = _participants[account];
        if (record.status != Status.None) revert Registry__AlreadyRegistered(account);
        record.roles = entry.roles;
        record.status = Status.Active;
        record.region = entry.region;
        record.sector = entry.sector;
        record.registeredAt = uint40(block.timestamp);
        record.updatedAt = uint40(block.timestamp);
        record.identityHash = entry.identityHash;
        emit ParticipantOnboarded(account, entry.roles, entry.identityHash, entry.region, entry.sector, msg.sender);
    }

    /// @dev Moves `account` from `fromA` or `fromB` to `to`; any other current status reverts.
    function _changeStatus(address account, Status fromA, Status fromB, Status to, bytes32 reasonHash)
        internal
        virtual
    {
        Participant storage record = _participants[account];
        Status current = record.status;
        if (current == Status.None) revert Registry__NotRegistered(account);
        _authorize(account, record.roles);
        if (current != fromA && current != fromB) revert Registry__InvalidStatusChange(account, current);
        record.status = to;
        record.updatedAt = uint40(block.timestamp);
        emit StatusChanged(account, current, to, reasonHash, msg.sender);
    }

    /// @dev The admin acts on accounts whose roles include the regulator's; active regulators act on all others.
    function _authorize(address account, uint8 roles) internal view virtual {
        if (roles & Roles.REGULATOR != 0) {
            if (msg.sender != _admin) revert Registry__RegulatorRequiresAdmin(msg.sender, account);
            return;
        }
        Participant storage caller = _participants[msg.sender];
        if (caller.status != Status.Active || caller.roles & Roles.REGULATOR == 0) {
            revert Registry__Unauthorized(msg.sender);
        }
    }

    function _checkRoles(uint8 roles) internal pure virtual {
        if (roles == 0 || roles & ~Roles.ALL != 0) revert Registry__InvalidRoles(roles);
    }

    function _requireActive(address account) internal view {
        Status status = _participants[account].status;
        if (status != Status.Active) revert Registry__NotActive(account, status);
    }

    function _requireRole(address account, uint8 roleMask) internal view {
        Participant storage record = _participants[account];
        if (record.status != Status.Active) revert Registry__NotActive(account, record.status);
        if (record.roles & roleMask == 0) revert Registry__MissingRole(account, roleMask);
    }
}
