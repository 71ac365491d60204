// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ICarbonAllowance} from "../interfaces/ICarbonAllowance.sol";
import {IOffsetRegistry} from "../interfaces/IOffsetRegistry.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {AllowanceId} from "./libraries/AllowanceId.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title OffsetRegistry
/// @notice Offset projects and the issuance of their verified reductions as offset units (CCER-like).
/// It must hold the allowance contract's `ISSUER_ROLE` and be an active participant of the registry.
contract OffsetRegistry is IOffsetRegistry, RegistryAccessControl, Initializable {
    ICarbonAllowance private immutable _allowance;

    mapping(uint64 project => Project) private _projects;
    Claim[] private _claims;
    uint64 private _projectCount;

    /// @param registry_ the participant registry
    /// @param allowance_ the carbon allowance contract that mints the offsets
    constructor(IParticipantRegistry registry_, ICarbonAllowance allowance_) RegistryAccessControl(registry_) {
        _allowance = allowance_;
        initialize();
    }

    /// @notice Marks the part initialized (it has nothing else to set): run by the constructor (a direct deployment,
    /// or the implementation of a proxy) and once by a proxy when it is deployed, so no proxy of the suite is ever
    /// left uninitialized.
    function initialize() public initializer {}

    /// @inheritdoc IOffsetRegistry
    function registerProject(address developer, bytes32 metadataHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint64 projectId)
    {
        registry().requireRole(developer, Roles.OFFSET_DEVELOPER);
        if (metadataHash == bytes32(0)) revert Offset__MissingDocument();
        projectId = ++_projectCount;
        _projects[projectId] = Project({
            developer: developer,
            registeredAt: uint40(block.timestamp),
            active: true,
            issued: 0,
            metadataHash: metadataHash
        });
        emit ProjectRegistered(projectId, developer, metadataHash);
    }

    /// @inheritdoc IOffsetRegistry
    function setProjectActive(uint64 projectId, bool active, bytes32 reasonHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _projectOf(projectId).active = active;
        emit ProjectStatusChanged(projectId, active, reasonHash);
    }

    /// @inheritdoc IOffsetRegistry
    function requestIssuance(uint64 projectId, uint16 vintage, uint256 amount, bytes32 documentHash)
        external
        returns (uint256 claimId)
    {
        Project storage p = _projectOf(projectId);
        if (p.developer != msg.sender) revert Offset__NotDeveloper(projectId, msg.sender);
        registry().requireRole(msg.sender, Roles.OFFSET_DEVELOPER); // active, and still a developer
        if (!p.active) revert Offset__ProjectInactive(projectId);
        if (amount == 0 || amount > type(uint64).max) revert Offset__InvalidAmount(amount);
        if (documentHash == bytes32(0)) revert Offset__MissingDocument();
        // slither-disable-next-line unused-return (called for its check; the id is derived again where it is minted)
        AllowanceId.offset(projectId, vintage); // reverts on a vintage outside the supported years
        claimId = _claims.length;
        _claims.push(
            Claim({
                project: projectId,
                vintage: vintage,
                amount: uint64(amount),
                submittedAt: uint40(block.timestamp),
                status: ClaimStatus.Pending,
                verifier: address(0),
                reviewedAt: 0,
                documentHash: documentHash,
                reasonHash: bytes32(0)
            })
        );
        emit IssuanceRequested(claimId, projectId, vintage, amount, documentHash);
    }

    /// @inheritdoc IOffsetRegistry
    function attestIssuance(uint256 claimId) external {
        Claim storage c = _review(claimId, ClaimStatus.Issued);
        Project storage p = _projects[c.project];
        if (!p.active) revert Offset__ProjectInactive(c.project);
        // offsets go only to an account that is still an active offset developer
        registry().requireRole(p.developer, Roles.OFFSET_DEVELOPER);
        uint256 id = AllowanceId.offset(c.project, c.vintage);
        // issued counts tonnes of one project; the allowance's 48-bit per-id counters bound what can be minted
        p.issued += c.amount;
        _allowance.mint(p.developer, id, c.amount);
        emit OffsetsIssued(claimId, c.project, id, c.amount, msg.sender);
    }

    /// @inheritdoc IOffsetRegistry
    function rejectIssuance(uint256 claimId, bytes32 reasonHash) external {
        Claim storage c = _review(claimId, ClaimStatus.Rejected);
        c.reasonHash = reasonHash;
        emit IssuanceRejected(claimId, c.project, msg.sender, reasonHash);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IOffsetRegistry
    function project(uint64 projectId) external view returns (Project memory) {
        return _projectOf(projectId);
    }

    /// @inheritdoc IOffsetRegistry
    function claim(uint256 claimId) external view returns (Claim memory) {
        if (claimId >= _claims.length) revert Offset__UnknownClaim(claimId);
        return _claims[claimId];
    }

    /// @inheritdoc IOffsetRegistry
    function projectCount() external view returns (uint64) {
        return _projectCount;
    }

    /// @inheritdoc IOffsetRegistry
    function claimCount() external view returns (uint256) {
        return _claims.length;
    }

    // ------------------------------------------------------------------ internal

    function _projectOf(uint64 projectId) internal view returns (Project storage p) {
        p = _projects[projectId];
        if (p.developer == address(0)) revert Offset__UnknownProject(projectId);
    }

    /// @dev Checks that the caller may review claim `claimId` and records the review as `outcome`.
    function _review(uint256 claimId, ClaimStatus outcome) internal virtual returns (Claim storage c) {
        registry().requireRole(msg.sender, Roles.VERIFIER);
        if (claimId >= _claims.length) revert Offset__UnknownClaim(claimId);
        c = _claims[claimId];
        if (c.status != ClaimStatus.Pending) revert Offset__ClaimNotPending(claimId, c.status);
        if (_projects[c.project].developer == msg.sender) revert Offset__SelfVerification(claimId, msg.sender);
        c.status = outcome;
        c.verifier = msg.sender;
        c.reviewedAt = uint40(block.timestamp);
    }
}
