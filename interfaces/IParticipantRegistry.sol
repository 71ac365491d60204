// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title The participant registry of the carbon market
/// @notice Identity authentication for the whole system: every other contract asks this registry who
/// may hold, move or trade units and who may act in which role. Nothing else decides who may act.
/// @dev Participant roles are bit flags packed with the status in one storage slot, so one SLOAD
/// answers "is this account active in role R?".
interface IParticipantRegistry {
    /// @notice The life-cycle state of a participant. `None` means never registered.
    enum Status {
        None,
        Active,
        Frozen,
        Revoked
    }

    /// @notice A participant record. The identity documents stay off-chain; only their hash is kept.
    struct Participant {
        uint8 roles; // bitmask of the ROLE_* flags
        Status status;
        uint32 region; // administrative region code (e.g. GB/T 2260, 110000 = Beijing)
        uint16 sector; // industry sector code (e.g. GB/T 4754 class, 4411 = thermal power)
        uint40 registeredAt;
        uint40 updatedAt;
        bytes32 identityHash;
    }

    /// @notice The data the regulator gives when it onboards or updates a participant.
    struct Onboarding {
        address account;
        uint8 roles;
        bytes32 identityHash;
        uint32 region;
        uint16 sector;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when a caller without the needed authority calls a restricted function.
    error Registry__Unauthorized(address caller);
    /// @notice Thrown when only the admin may act on an account that holds (or would hold) the regulator role.
    error Registry__RegulatorRequiresAdmin(address caller, address account);
    /// @notice Thrown when the zero address is given as a participant or as the new admin.
    error Registry__ZeroAddress();
    /// @notice Thrown when onboarding an account that is (or was) already registered.
    error Registry__AlreadyRegistered(address account);
    /// @notice Thrown when an account is not registered at all.
    error Registry__NotRegistered(address account);
    /// @notice Thrown when a role mask is empty or has bits outside the known roles.
    error Registry__InvalidRoles(uint8 roles);
    /// @notice Thrown when a status change is not allowed from the account's current status.
    error Registry__InvalidStatusChange(address account, Status current);
    /// @notice Thrown when an account must be an active participant and is not.
    error Registry__NotActive(address account, Status status);
    /// @notice Thrown when an active account lacks every role of the required mask.
    error Registry__MissingRole(address account, uint8 required);
    /// @notice Thrown when a batch is empty or longer than the allowed maximum.
    error Registry__BadBatchSize(uint256 size, uint256 max);
    /// @notice Thrown when someone other than the proposed admin tries to accept the admin role.
    error Registry__NotPendingAdmin(address caller, address pending);
    /// @notice Thrown when a governed action (parameters, role grants) comes from anyone but the governor.
    error Registry__NotGovernor(address caller, address governor);
    /// @notice Thrown when the suite is handed to a governor that is not a contract (a timelock).
    error Registry__GovernorWithoutCode(address governor);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a participant is onboarded.
    event ParticipantOnboarded(
        address indexed account, uint8 roles, bytes32 identityHash, uint32 region, uint16 sector, address indexed by
    );
    /// @notice Emitted when a participant's roles, identity hash, region or sector are updated.
    event ParticipantUpdated(
        address indexed account,
        uint8 oldRoles,
        uint8 roles,
        bytes32 identityHash,
        uint32 region,
        uint16 sector,
        address indexed by
    );
    /// @notice Emitted whenever a participant's status changes (freeze, unfreeze, revoke).
    event StatusChanged(
        address indexed account, Status oldStatus, Status newStatus, bytes32 reasonHash, address indexed by
    );
    /// @notice Emitted when the regulator declares the beneficial-owner group of a participant (surveillance reads
    /// trades between accounts of one group as trades with oneself); the zero group clears a declaration.
    event GroupDeclared(address indexed account, bytes32 previous, bytes32 group, address indexed by);
    /// @notice Emitted when the admin proposes a successor (the zero address cancels a proposal).
    event AdminTransferProposed(address indexed admin, address indexed proposed);
    /// @notice Emitted when the proposed successor accepts and becomes the admin.
    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    /// @notice Emitted when the admin hands the suite to a governor (a timelock), which becomes the admin too.
    event GovernorSet(address indexed previousGovernor, address indexed governor);

    // ------------------------------------------------------------------ admin (two-step)

    /// @notice The top admin: manages regulators and nothing else.
    function admin() external view returns (address);

    /// @notice The admin's proposed successor, or the zero address.
    function pendingAdmin() external view returns (address);

    /// @notice Propose a new admin; it takes over only once it calls `acceptAdmin`.
    /// @param proposed the successor, or the zero address to cancel a pending proposal
    function proposeAdmin(address proposed) external;

    /// @notice Accept the admin role proposed to the caller.
    function acceptAdmin() external;

    // ------------------------------------------------------------------ governance

    /// @notice Hand the suite to `governor_` (a timelock whose approvers are the regulators): from then on the
    /// governed actions of every part (parameters, role grants) and the admin's (new regulators) are its alone, and
    /// a single regulator keeps the immediate ones (pause, freeze, recoveries). Admin only; the governor, as the
    /// new admin, may hand over again (a new timelock).
    function handOver(address governor_) external;

    /// @notice The governor, or the zero address while the suite is not handed over (then every active regulator
    /// governs).
    function governor() external view returns (address);

    /// @notice Whether `account` may take governed actions: the governor, or while there is none an active regulator.
    function isGovernor(address account) external view returns (bool);

    /// @notice Reverts unless `account` may take governed actions: `Registry__NotGovernor` once handed over,
    /// otherwise the regulator check's `Registry__NotActive` / `Registry__MissingRole`.
    function requireGovernor(address account) external view;

    // ------------------------------------------------------------------ participant management

    /// @notice Onboard one participant as active. Regulators onboard everyone but regulators; the admin onboards regulators.
    function onboard(Onboarding calldata entry) external;

    /// @notice Onboard many participants in one call (at most `MAX_BATCH`).
    function onboardBatch(Onboarding[] calldata entries) external;

    /// @notice Replace a participant's roles, identity hash, region and sector; the status is unchanged.
    function update(Onboarding calldata entry) external;

    /// @notice Declare that `account` belongs to the beneficial-owner group `group` (accounts under one control:
    /// a parent and its subsidiaries, a fund and its manager), or clear it with the zero group. Regulator only
    /// (the admin for a regulator's own account), like every other change to a participant's record. The groups are
    /// read from `GroupDeclared` events (surveillance reads the chain's events; no contract needs them).
    function declareGroup(address account, bytes32 group) external;

    /// @notice Freeze an active participant: it can neither move units nor trade until unfrozen.
    function freeze(address account, bytes32 reasonHash) external;

    /// @notice Return a frozen participant to active.
    function unfreeze(address account, bytes32 reasonHash) external;

    /// @notice Revoke a participant for good (from active or frozen). A revoked account cannot come back.
    function revoke(address account, bytes32 reasonHash) external;

    // ------------------------------------------------------------------ views

    /// @notice The full record of `account` (all zero when never registered).
    function participant(address account) external view returns (Participant memory);

    /// @notice The status of `account`.
    function statusOf(address account) external view returns (Status);

    /// @notice The role mask of `account`, whatever its status.
    function rolesOf(address account) external view returns (uint8);

    /// @notice Whether `account` is an active participant.
    function isActive(address account) external view returns (bool);

    /// @notice Whether `account` is active and holds at least one role of `roleMask`.
    function hasRole(address account, uint8 roleMask) external view returns (bool);

    /// @notice Revert with `Registry__NotActive` unless `account` is active.
    /// @return roles the account's roles (so that one call both checks and tells what it may be)
    function requireActive(address account) external view returns (uint8 roles);

    /// @notice Revert unless `account` is active and holds at least one role of `roleMask`.
    function requireRole(address account, uint8 roleMask) external view;

    /// @notice Revert unless `from` and `to` are active and, when `operator` is not `from`, so is `operator`.
    /// @dev The permission check of every unit and money transfer, in one call.
    function requireTransfer(address operator, address from, address to) external view;
}
