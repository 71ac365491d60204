// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ICarbonAllowance} from "../interfaces/ICarbonAllowance.sol";
import {ICompliance} from "../interfaces/ICompliance.sol";
import {ICreditToken} from "../interfaces/ICreditToken.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {AllowanceId} from "./libraries/AllowanceId.sol";
import {Roles} from "./libraries/Roles.sol";
import {ComplianceLogic} from "./libraries/ComplianceLogic.sol";
import "./libraries/ComplianceStorage.sol" as S;
import {ComplianceStorage, Year, Record, Standing, Allocation, Verification, Account, Peers} from
    "./libraries/ComplianceStorage.sol";

/// @title Compliance
/// @notice The compliance year of the carbon market, after China's national ETS and the EU ETS:
///  1. the regulator opens a year with its rules and sector benchmarks;
///  2. enrolment pre-allocates `preAllocationBps` x benchmark x the previous verified output (or a baseline),
///     less any debt the enterprise carries;
///  3. the enterprise reports, a verifier attests or rejects, the regulator finalises (every version is kept);
///  4. finalisation runs the true-up to benchmark x verified output: the difference is minted, or clawed back
///     and what cannot be clawed back carried as debt into the next allocation;
///  5. the enterprise surrenders allowances of vintage <= the year and offsets (up to the offset limit);
///  6. after the deadline anyone settles the year in bounded, resumable batches: shortfalls are penalised (credit
///     burned, debt carried, a fine owed), full surrender rewarded (more if early).
/// It must hold the allowance's `ISSUER_ROLE` and `SURRENDER_ROLE` and the credit's `RULES_ROLE`, and be an
/// active participant of the registry.
/// @dev `multicall` (OpenZeppelin's) runs several of these functions in one transaction, each as its sender with
/// its sender's roles and all or nothing: a verifier's attestations of many reports, an enterprise's surrender of
/// several vintages.
contract Compliance is ICompliance, RegistryAccessControl, Multicall, Initializable {
    using ComplianceStorage for Year;
    using ComplianceStorage for mapping(uint16 => Year);

    /// @notice Basis points in one whole.
    uint256 public constant BPS = S.BPS;
    /// @notice Benchmarks are micro-tonnes of CO2e per unit of output.
    uint256 public constant BENCHMARK_SCALE = S.BENCHMARK_SCALE;
    /// @notice The most credit one rule may mint or burn.
    uint256 public constant MAX_CREDIT_PER_RULE = S.MAX_CREDIT_PER_RULE;
    /// @notice The most enterprises `enroll` and `finalize` take in one call.
    uint256 public constant MAX_BATCH = S.MAX_BATCH;
    /// @notice The most sectors `openYear` and `setBenchmarks` take in one call.
    uint256 public constant MAX_SECTORS = S.MAX_SECTORS;
    /// @notice The most enterprises one `settle` call settles.
    uint256 public constant MAX_SETTLE_BATCH = S.MAX_SETTLE_BATCH;

    ICarbonAllowance private immutable _allowance;
    ICreditToken private immutable _credit;

    mapping(uint16 year => Year) private _years;
    mapping(address enterprise => Account) private _accounts;

    /// @param registry_ the participant registry
    /// @param allowance_ the carbon allowance this contract mints, claws back and burns
    /// @param credit_ the credit token this contract mints and burns
    constructor(IParticipantRegistry registry_, ICarbonAllowance allowance_, ICreditToken credit_)
        RegistryAccessControl(registry_)
    {
        _allowance = allowance_;
        _credit = credit_;
        initialize();
    }

    /// @notice Marks the part initialized (it has nothing else to set): run by the constructor (a direct deployment,
    /// or the implementation of a proxy) and once by a proxy when it is deployed, so no proxy of the suite is ever
    /// left uninitialized.
    function initialize() public initializer {}

    // ------------------------------------------------------------------ regulator

    /// @inheritdoc ICompliance
    function openYear(uint16 year, Rules calldata rules_, uint16[] calldata sectors, uint64[] calldata benchmarks)
        external
        onlyGovernor
    {
        if (year < AllowanceId.MIN_VINTAGE || year > AllowanceId.MAX_VINTAGE) revert Compliance__InvalidYear(year);
        Year storage y = _years[year];
        if (y.totals.openedAt != 0) revert Compliance__YearAlreadyOpen(year);
        _checkRules(rules_);
        y.rules = rules_;
        y.totals.openedAt = uint40(block.timestamp);
        emit YearOpened(year, rules_);
        _setBenchmarks(y, year, sectors, benchmarks);
    }

    /// @inheritdoc ICompliance
    function setRules(uint16 year, Rules calldata rules_) external onlyGovernor {
        Year storage y = _years.beforeDeadline(year);
        _checkRules(rules_);
        Rules memory old = y.rules;
        y.rules = rules_;
        emit RulesChanged(year, old, rules_);
    }

    /// @inheritdoc ICompliance
    function setBenchmarks(uint16 year, uint16[] calldata sectors, uint64[] calldata benchmarks)
        external
        onlyGovernor
    {
        _setBenchmarks(_years.beforeDeadline(year), year, sectors, benchmarks);
    }

    /// @inheritdoc ICompliance
    function enroll(uint16 year, address[] calldata enterprises, uint64[] calldata baselineOutputs)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        ComplianceLogic.enroll(_years, _accounts, _peers(), year, enterprises, baselineOutputs);
    }

    /// @inheritdoc ICompliance
    function finalize(uint16 year, address[] calldata enterprises) external onlyRole(DEFAULT_ADMIN_ROLE) {
        ComplianceLogic.finalize(_years, _accounts, _peers(), year, enterprises);
    }

    // ------------------------------------------------------------------ enterprises and verifiers

    /// @inheritdoc ICompliance
    function submitReport(uint16 year, uint64 emissions, uint64 output, bytes32 documentHash) external {
        Record storage rec = _years.opened(year).unsettled(year, msg.sender);
        ReportState state = rec.standing.state;
        if (state != ReportState.Enrolled && state != ReportState.Rejected) {
            revert Compliance__InvalidState(year, msg.sender, state);
        }
        if (documentHash == bytes32(0)) revert Compliance__MissingDocument();
        _requireActive(msg.sender);
        Report[] storage versions = _years[year].reports[msg.sender];
        versions.push(
            Report({
                emissions: emissions,
                output: output,
                submittedAt: uint40(block.timestamp),
                verifier: address(0),
                reviewedAt: 0,
                status: ReviewStatus.Pending,
                documentHash: documentHash,
                reasonHash: bytes32(0)
            })
        );
        rec.standing.state = ReportState.Submitted;
        emit ReportSubmitted(year, msg.sender, versions.length - 1, emissions, output, documentHash);
    }

    /// @inheritdoc ICompliance
    function attest(uint16 year, address enterprise) external {
        (Record storage rec, Report storage version, uint256 index) = _review(year, enterprise);
        version.status = ReviewStatus.Attested;
        rec.standing.state = ReportState.Attested;
        emit ReportAttested(year, enterprise, index, msg.sender);
    }

    /// @inheritdoc ICompliance
    function reject(uint16 year, address enterprise, bytes32 reasonHash) external {
        if (reasonHash == bytes32(0)) revert Compliance__MissingDocument();
        (Record storage rec, Report storage version, uint256 index) = _review(year, enterprise);
        version.status = ReviewStatus.Rejected;
        version.reasonHash = reasonHash;
        Standing storage s = rec.standing;
        s.state = ReportState.Rejected;
        if (s.rejections < type(uint8).max) ++s.rejections;
        emit ReportRejected(year, enterprise, index, msg.sender, reasonHash);
    }

    /// @inheritdoc ICompliance
    function surrender(uint16 year, uint256 id, uint256 amount) external {
        Year storage y = _years.opened(year);
        Record storage rec = y.unsettled(year, msg.sender);
        Standing memory s = rec.standing;
        if (s.state != ReportState.Finalized) revert Compliance__InvalidState(year, msg.sender, s.state);
        // slither-disable-next-line unused-return (the project number plays no part in a surrender)
        (bool valid, uint8 kind, uint16 vintage,) = AllowanceId.tryDecode(id);
        if (!valid || vintage > year) revert Compliance__IneligibleUnit(year, id);

        uint256 obligation = rec.verification.emissions;
        // surrender never goes past the obligation, so done <= obligation
        uint256 remaining = obligation - s.allowancesSurrendered - s.offsetsSurrendered;
        if (amount == 0 || amount > remaining) revert Compliance__ExceedsObligation(year, msg.sender, remaining, amount);
        YearTotals storage t = y.totals;
        if (kind == AllowanceId.KIND_OFFSET) {
            uint256 limit = obligation * y.rules.offsetLimitBps / BPS;
            uint256 wanted = s.offsetsSurrendered + amount;
            if (wanted > limit) revert Compliance__OffsetLimitExceeded(year, msg.sender, limit, wanted);
            // amount <= remaining <= obligation, which fits 64 bits, as do the year's sums of obligations
            s.offsetsSurrendered = uint64(wanted);
            t.offsetsSurrendered += uint64(amount);
        } else {
            s.allowancesSurrendered += uint64(amount);
            t.allowancesSurrendered += uint64(amount);
        }
        if (amount == remaining) s.completedAt = uint40(block.timestamp);
        rec.standing = s;
        _allowance.surrender(msg.sender, id, amount);
        emit UnitsSurrendered(year, msg.sender, id, amount, block.timestamp > y.rules.deadline);
    }

    /// @inheritdoc ICompliance
    function claimAllocation(uint16 year) external returns (uint256 amount) {
        return ComplianceLogic.claim(_years, _peers(), year, msg.sender);
    }

    /// @inheritdoc ICompliance
    function settle(uint16 year, uint256 maxCount) external returns (uint256 settled) {
        return ComplianceLogic.settle(_years, _accounts, _peers(), year, maxCount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICompliance
    function rules(uint16 year) external view returns (Rules memory) {
        return _years[year].rules;
    }

    /// @inheritdoc ICompliance
    function benchmark(uint16 year, uint16 sector) external view returns (uint64) {
        return _years[year].benchmarks[sector];
    }

    /// @inheritdoc ICompliance
    function yearTotals(uint16 year) external view returns (YearTotals memory) {
        return _years[year].totals;
    }

    /// @inheritdoc ICompliance
    function phase(uint16 year) external view returns (Phase) {
        Year storage y = _years[year];
        if (y.totals.openedAt == 0) return Phase.None;
        if (block.timestamp <= y.rules.deadline) return Phase.Open;
        return y.totals.settled == y.totals.enterprises ? Phase.Settled : Phase.Settling;
    }

    /// @inheritdoc ICompliance
    function enterpriseYear(uint16 year, address enterprise) external view returns (EnterpriseYear memory e) {
        Year storage y = _years[year];
        Record storage rec = y.records[enterprise];
        Allocation memory a = rec.allocation;
        Standing memory s = rec.standing;
        Verification memory v = rec.verification;
        e.state = s.state;
        e.outcome = s.outcome;
        e.rejections = s.rejections;
        e.completedAt = s.completedAt;
        e.baselineOutput = a.baselineOutput;
        e.allocated = a.allocated;
        e.debtDeducted = a.debtDeducted;
        e.clawedBack = a.clawedBack;
        e.verifiedEmissions = v.emissions;
        e.verifiedOutput = v.output;
        // an unverified enterprise-year surrendered nothing, so its assessed obligation is its shortfall
        e.obligation = s.outcome == Outcome.Unverified ? v.shortfall : v.emissions;
        e.allowancesSurrendered = s.allowancesSurrendered;
        e.offsetsSurrendered = s.offsetsSurrendered;
        e.shortfall = v.shortfall;
        e.fine = uint256(v.shortfall) * y.rules.finePerTonne;
        e.creditRewarded = s.creditRewarded;
        e.creditBurned = s.creditBurned;
        e.reports = y.reports[enterprise].length;
    }

    /// @inheritdoc ICompliance
    function report(uint16 year, address enterprise, uint256 version) external view returns (Report memory) {
        Report[] storage versions = _years[year].reports[enterprise];
        if (version >= versions.length) revert Compliance__UnknownReport(year, enterprise, version);
        return versions[version];
    }

    /// @inheritdoc ICompliance
    function roster(uint16 year, uint256 start, uint256 limit) external view returns (address[] memory page) {
        address[] storage all = _years[year].roster;
        uint256 end = start + limit;
        if (end > all.length) end = all.length;
        if (start >= end) return new address[](0);
        page = new address[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = all[i];
        }
    }

    /// @inheritdoc ICompliance
    function debtOf(address enterprise) external view returns (uint64) {
        return _accounts[enterprise].debt;
    }

    /// @inheritdoc ICompliance
    function offsetLimit(uint16 year, address enterprise) external view returns (uint256) {
        Year storage y = _years[year];
        Record storage rec = y.records[enterprise];
        if (rec.standing.state != ReportState.Finalized) return 0;
        return uint256(rec.verification.emissions) * y.rules.offsetLimitBps / BPS;
    }

    /// @inheritdoc ICompliance
    function heldAllocation(uint16 year, address enterprise) external view returns (uint256) {
        return _years[year].held[enterprise];
    }

    // ------------------------------------------------------------------ internal: set-up

    function _checkRules(Rules calldata r) internal view virtual {
        if (r.preAllocationBps > BPS) revert Compliance__InvalidRules("preAllocationBps", r.preAllocationBps);
        if (r.offsetLimitBps > BPS) revert Compliance__InvalidRules("offsetLimitBps", r.offsetLimitBps);
        if (r.deadline <= block.timestamp) revert Compliance__InvalidRules("deadline", r.deadline);
        if (r.earlyDeadline > r.deadline) revert Compliance__InvalidRules("earlyDeadline", r.earlyDeadline);
        _checkCredit("rewardEarly", r.rewardEarly);
        _checkCredit("rewardOnTime", r.rewardOnTime);
        _checkCredit("rewardAccurate", r.rewardAccurate);
        _checkCredit("penaltyLate", r.penaltyLate);
        _checkCredit("penaltyShortfall", r.penaltyShortfall);
        _checkCredit("penaltyRejected", r.penaltyRejected);
    }

    function _checkCredit(string memory field, uint256 value) private pure {
        if (value > MAX_CREDIT_PER_RULE) revert Compliance__InvalidRules(field, value);
    }

    function _setBenchmarks(Year storage y, uint16 year, uint16[] calldata sectors, uint64[] calldata values)
        private
    {
        uint256 n = sectors.length;
        if (n != values.length || n > MAX_SECTORS) revert Compliance__BadBatch(n, values.length, MAX_SECTORS);
        for (uint256 i; i < n; ++i) {
            uint64 value = values[i];
            if (value == 0) revert Compliance__InvalidRules("benchmark", value);
            uint16 sector = sectors[i];
            uint64 old = y.benchmarks[sector];
            y.benchmarks[sector] = value;
            emit BenchmarkChanged(year, sector, old, value);
        }
    }

    // ------------------------------------------------------------------ internal: reports and true-up

    function _review(uint16 year, address enterprise)
        internal
        virtual
        returns (Record storage rec, Report storage version, uint256 index)
    {
        registry().requireRole(msg.sender, Roles.VERIFIER);
        if (msg.sender == enterprise) revert Compliance__SelfVerification(year, enterprise);
        Year storage y = _years.opened(year);
        rec = y.unsettled(year, enterprise);
        if (rec.standing.state != ReportState.Submitted) {
            revert Compliance__InvalidState(year, enterprise, rec.standing.state);
        }
        Report[] storage versions = y.reports[enterprise];
        // state Submitted means at least one version was pushed
        unchecked {
            index = versions.length - 1;
        }
        version = versions[index];
        version.verifier = msg.sender;
        version.reviewedAt = uint40(block.timestamp);
    }

    // ------------------------------------------------------------------ internal: settlement

    // ------------------------------------------------------------------ internal: debt

    // ------------------------------------------------------------------ internal: lookups and checks

    function _peers() private view returns (Peers memory) {
        return Peers(registry(), _allowance, _credit);
    }
}
