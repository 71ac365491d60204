// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Offset projects and the issuance of verified offsets
/// @notice The regulator registers an offset project for an offset developer; the developer claims the
/// reductions of a vintage with its monitoring report's hash; a verifier attests the claim, and the offsets
/// (one unit per tonne, id = project and vintage) are issued to the developer, or rejects it with a reason.
interface IOffsetRegistry {
    /// @notice Where an issuance claim stands.
    enum ClaimStatus {
        None,
        Pending,
        Issued,
        Rejected
    }

    /// @notice An offset project.
    struct Project {
        address developer;
        uint40 registeredAt;
        bool active;
        uint64 issued; // offsets issued over all vintages
        bytes32 metadataHash; // hash of the project design document
    }

    /// @notice A claim for the verified reductions of one vintage of a project.
    struct Claim {
        uint64 project;
        uint16 vintage;
        uint64 amount;
        uint40 submittedAt;
        ClaimStatus status;
        address verifier;
        uint40 reviewedAt;
        bytes32 documentHash; // hash of the monitoring report
        bytes32 reasonHash; // hash of the verifier's reasons, on rejection
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when a project number that was never registered is used.
    error Offset__UnknownProject(uint64 project);
    /// @notice Thrown when someone other than a project's developer claims its reductions.
    error Offset__NotDeveloper(uint64 project, address caller);
    /// @notice Thrown when a suspended project claims reductions or has a claim attested.
    error Offset__ProjectInactive(uint64 project);
    /// @notice Thrown when a claim has a zero amount or an amount above 2^64 - 1.
    error Offset__InvalidAmount(uint256 amount);
    /// @notice Thrown when a claim or project has no document hash.
    error Offset__MissingDocument();
    /// @notice Thrown when a claim id that does not exist is used.
    error Offset__UnknownClaim(uint256 claimId);
    /// @notice Thrown when a claim that was already attested or rejected is reviewed again.
    error Offset__ClaimNotPending(uint256 claimId, ClaimStatus status);
    /// @notice Thrown when a project's developer tries to verify its own claim.
    error Offset__SelfVerification(uint256 claimId, address verifier);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the regulator registers an offset project.
    event ProjectRegistered(uint64 indexed project, address indexed developer, bytes32 metadataHash);
    /// @notice Emitted when the regulator suspends or reinstates a project.
    event ProjectStatusChanged(uint64 indexed project, bool active, bytes32 reasonHash);
    /// @notice Emitted when a developer claims the reductions of a vintage.
    event IssuanceRequested(
        uint256 indexed claimId, uint64 indexed project, uint16 vintage, uint256 amount, bytes32 documentHash
    );
    /// @notice Emitted when a verifier attests a claim and its offsets are issued to the developer.
    event OffsetsIssued(
        uint256 indexed claimId, uint64 indexed project, uint256 indexed id, uint256 amount, address verifier
    );
    /// @notice Emitted when a verifier rejects a claim.
    event IssuanceRejected(uint256 indexed claimId, uint64 indexed project, address verifier, bytes32 reasonHash);

    // ------------------------------------------------------------------ functions

    /// @notice Register an offset project owned by `developer` (an active offset developer). Regulator only.
    /// @return project the new project's number (1, 2, ...), which offset ids carry
    function registerProject(address developer, bytes32 metadataHash) external returns (uint64 project);

    /// @notice Suspend or reinstate a project, with the hash of the reasons. Regulator only.
    function setProjectActive(uint64 project, bool active, bytes32 reasonHash) external;

    /// @notice Claim `amount` tonnes of verified reductions of `vintage` for `project`. The project's developer only.
    /// @return claimId the claim's number
    function requestIssuance(uint64 project, uint16 vintage, uint256 amount, bytes32 documentHash)
        external
        returns (uint256 claimId);

    /// @notice Attest a pending claim and issue its offsets to the developer. Active verifiers other than the developer.
    function attestIssuance(uint256 claimId) external;

    /// @notice Reject a pending claim, with the hash of the reasons. Active verifiers other than the developer.
    function rejectIssuance(uint256 claimId, bytes32 reasonHash) external;

    /// @notice The record of `project`.
    function project(uint64 project) external view returns (Project memory);

    /// @notice The record of claim `claimId`.
    function claim(uint256 claimId) external view returns (Claim memory);

    /// @notice How many projects were registered (the last project's number).
    function projectCount() external view returns (uint64);

    /// @notice How many claims were made.
    function claimCount() external view returns (uint256);
}
