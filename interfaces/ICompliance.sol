// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title The compliance year
/// @notice Opening a year with its rules, pre-allocation, reporting and verification, true-up, surrender and
/// settlement with credit rewards and penalties. Quantities are whole tonnes of CO2-equivalent (one allowance
/// unit each); benchmarks are micro-tonnes per unit of output (`BENCHMARK_SCALE`); shares are basis points.
interface ICompliance {
    /// @notice Where an enterprise-year's report stands.
    enum ReportState {
        None, // not enrolled
        Enrolled, // pre-allocated, no report yet
        Submitted, // a report version waits for a verifier
        Attested, // the verifier attested the latest version; waits for the regulator
        Rejected, // the verifier rejected the latest version; the enterprise may resubmit
        Finalized // the regulator finalised the verified figures and the true-up ran
    }

    /// @notice How an enterprise-year was settled.
    enum Outcome {
        Pending, // not settled yet
        Early, // full surrender by the early deadline
        OnTime, // full surrender by the deadline
        Late, // full surrender, after the deadline
        Short, // less surrendered than the verified emissions
        Unverified // no finalised report: assessed at benchmark x pre-allocation output
    }

    /// @notice A verifier's verdict on one report version.
    enum ReviewStatus {
        Pending,
        Attested,
        Rejected
    }

    /// @notice The rules of a compliance year.
    struct Rules {
        uint16 preAllocationBps; // share of benchmark x previous output allocated up front (7000 = 70%)
        uint16 offsetLimitBps; // offsets surrendered at most this share of verified emissions (500 = 5%)
        uint40 earlyDeadline; // full surrender by then is rewarded as early
        uint40 deadline; // the surrender deadline; rules are frozen after it and settlement may start
        uint128 finePerTonne; // fine owed per tonne of shortfall, in settlement-token units
        uint32 rewardEarly; // credit minted for early compliance
        uint32 rewardOnTime; // credit minted for on-time compliance
        uint32 rewardAccurate; // credit minted when a report is finalised without any rejection
        uint32 penaltyLate; // credit burned for a full but late surrender
        uint32 penaltyShortfall; // credit burned for a shortfall (or no verified report)
        uint32 penaltyRejected; // credit burned when a report is finalised after a rejection
        uint32 settlementGrace; // seconds after the deadline in which only the regulator settles an enterprise
        // whose report awaits a verifier or the regulator (default 7 days)
    }

    /// @notice One version of an enterprise's report, and the verifier's review of it.
    struct Report {
        uint64 emissions;
        uint64 output;
        uint40 submittedAt;
        address verifier;
        uint40 reviewedAt;
        ReviewStatus status;
        bytes32 documentHash; // hash of the emission report and its evidence
        bytes32 reasonHash; // hash of the verifier's reasons, on rejection
    }

    /// @notice Everything about one enterprise in one year.
    struct EnterpriseYear {
        ReportState state;
        Outcome outcome;
        uint8 rejections; // rejected versions (saturates at 255)
        uint40 completedAt; // when surrender reached the obligation (0 if it has not)
        uint64 baselineOutput; // the output pre-allocation used
        uint64 allocated; // allocation credited to the year: minted plus debt deducted, after true-up
        uint64 debtDeducted; // carried debt paid out of this year's allocation
        uint64 clawedBack; // units taken back by the true-up
        uint64 verifiedEmissions;
        uint64 verifiedOutput;
        uint64 obligation; // verified emissions (or the assessment, if unverified)
        uint64 allowancesSurrendered;
        uint64 offsetsSurrendered;
        uint64 shortfall; // set at settlement
        uint256 fine; // owed, in settlement-token units: shortfall x the year's fine per tonne
        uint32 creditRewarded;
        uint32 creditBurned;
        uint256 reports; // number of report versions
    }

    /// @notice The running totals of a year.
    struct YearTotals {
        uint40 openedAt;
        uint32 enterprises;
        uint32 settled; // the settlement cursor: the first `settled` enterprises of the roster are settled
        uint32 finalized;
        uint64 allocated;
        uint64 clawedBack;
        uint64 verifiedEmissions;
        uint64 allowancesSurrendered;
        uint64 offsetsSurrendered;
        uint64 shortfall;
        uint64 creditRewarded;
        uint64 creditBurned;
        uint256 fines;
        uint32[6] outcomes; // enterprises settled per `Outcome` (index 0 unused)
    }

    /// @notice Where a year stands, derived from its totals and the clock.
    enum Phase {
        None,
        Open,
        Settling,
        Settled
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when a year outside the supported vintages is opened.
    error Compliance__InvalidYear(uint16 year);
    /// @notice Thrown when a year is opened twice.
    error Compliance__YearAlreadyOpen(uint16 year);
    /// @notice Thrown when a year that was never opened is used.
    error Compliance__YearNotOpen(uint16 year);
    /// @notice Thrown when a rule is out of range; `field` names it.
    error Compliance__InvalidRules(string field, uint256 value);
    /// @notice Thrown when rules, benchmarks or enrolment change after the surrender deadline.
    error Compliance__DeadlinePassed(uint16 year, uint256 deadline);
    /// @notice Thrown when settlement is asked for before the surrender deadline has passed.
    error Compliance__DeadlineNotPassed(uint16 year, uint256 deadline);
    /// @notice Thrown when an enterprise's sector has no benchmark in the year.
    error Compliance__NoBenchmark(uint16 year, uint16 sector);
    /// @notice Thrown when batch arguments are empty, differ in length or exceed the maximum.
    error Compliance__BadBatch(uint256 length, uint256 otherLength, uint256 max);
    /// @notice Thrown when an enterprise is enrolled twice in one year.
    error Compliance__AlreadyEnrolled(uint16 year, address enterprise);
    /// @notice Thrown when an enterprise that is not enrolled in the year acts or is acted on.
    error Compliance__NotEnrolled(uint16 year, address enterprise);
    /// @notice Thrown when a baseline output is given for an enterprise whose previous year is verified.
    error Compliance__BaselineConflict(address enterprise, uint256 baseline, uint256 verifiedOutput);
    /// @notice Thrown when an action does not fit the enterprise-year's report state.
    error Compliance__InvalidState(uint16 year, address enterprise, ReportState state);
    /// @notice Thrown when a report or review has no document or reason hash.
    error Compliance__MissingDocument();
    /// @notice Thrown when an account verifies its own report.
    error Compliance__SelfVerification(uint16 year, address enterprise);
    /// @notice Thrown when an enterprise-year that is settled is changed.
    error Compliance__AlreadySettled(uint16 year, address enterprise);
    /// @notice Thrown when a unit that cannot serve the year (later vintage, bad id) is surrendered.
    error Compliance__IneligibleUnit(uint16 year, uint256 id);
    /// @notice Thrown when a surrender is zero or goes beyond what remains of the obligation.
    error Compliance__ExceedsObligation(uint16 year, address enterprise, uint256 remaining, uint256 amount);
    /// @notice Thrown when offsets beyond the year's offset limit are surrendered.
    error Compliance__OffsetLimitExceeded(uint16 year, address enterprise, uint256 limit, uint256 wanted);
    /// @notice Thrown when settlement is advanced although every enterprise of the year is settled.
    error Compliance__NothingToSettle(uint16 year);
    /// @notice Thrown when settlement reaches, inside the grace window and not called by the regulator, an
    /// enterprise whose report awaits a verifier or the regulator: only the regulator settles it before `graceEnds`.
    error Compliance__AwaitingFinalization(uint16 year, address enterprise, uint256 graceEnds);
    /// @notice Thrown when a quantity does not fit its 64-bit field.
    error Compliance__Overflow(uint256 value);
    /// @notice Thrown when a report version that does not exist is asked for.
    error Compliance__UnknownReport(uint16 year, address enterprise, uint256 version);
    /// @notice Thrown when an enterprise claims held allowances of a year and none are held for it.
    error Compliance__NothingToClaim(uint16 year, address enterprise);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the regulator opens year `year` with its rules.
    event YearOpened(uint16 indexed year, Rules rules);
    /// @notice Emitted when the rules of an open year change, with the old and the new rules.
    event RulesChanged(uint16 indexed year, Rules oldRules, Rules newRules);
    /// @notice Emitted when a sector's benchmark is set or changed.
    event BenchmarkChanged(uint16 indexed year, uint16 indexed sector, uint256 oldBenchmark, uint256 newBenchmark);
    /// @notice Emitted when an enterprise is enrolled and pre-allocated: `preAllocation` is owed, of which
    /// `debtDeducted` pays carried debt and the rest was minted.
    event PreAllocated(
        uint16 indexed year,
        address indexed enterprise,
        uint256 baselineOutput,
        uint256 preAllocation,
        uint256 debtDeducted,
        uint256 minted
    );
    /// @notice Emitted when an enterprise submits a version of its report.
    event ReportSubmitted(
        uint16 indexed year,
        address indexed enterprise,
        uint256 version,
        uint256 emissions,
        uint256 output,
        bytes32 documentHash
    );
    /// @notice Emitted when a verifier attests a report version.
    event ReportAttested(uint16 indexed year, address indexed enterprise, uint256 version, address indexed verifier);
    /// @notice Emitted when a verifier rejects a report version.
    event ReportRejected(
        uint16 indexed year, address indexed enterprise, uint256 version, address indexed verifier, bytes32 reasonHash
    );
    /// @notice Emitted when the regulator finalises an enterprise-year's verified figures.
    event ReportFinalized(
        uint16 indexed year, address indexed enterprise, uint256 version, uint256 emissions, uint256 output
    );
    /// @notice Emitted by the true-up: final allocation `entitlement`; the difference was minted, or taken back
    /// (from what is held for the enterprise, see `HeldAllocationReduced`, then `clawedBack` from its balance) and
    /// whatever could not be taken back added to the debt.
    event TrueUp(
        uint16 indexed year,
        address indexed enterprise,
        uint256 entitlement,
        uint256 minted,
        uint256 debtDeducted,
        uint256 clawedBack,
        uint256 debtAdded
    );
    /// @notice Emitted when an enterprise surrenders units for year `year`.
    event UnitsSurrendered(
        uint16 indexed year, address indexed enterprise, uint256 indexed id, uint256 amount, bool late
    );
    /// @notice Emitted when an enterprise-year is settled.
    event EnterpriseSettled(
        uint16 indexed year,
        address indexed enterprise,
        Outcome outcome,
        uint256 shortfall,
        uint256 fine,
        uint256 creditRewarded,
        uint256 creditBurned
    );
    /// @notice Emitted when a reward is not minted because the enterprise is not active.
    event RewardForfeited(uint16 indexed year, address indexed enterprise, uint256 amount, bytes32 reason);
    /// @notice Emitted by every settlement batch: roster positions `from` to `to` (exclusive) were settled.
    event SettlementAdvanced(uint16 indexed year, uint256 from, uint256 to, address indexed caller);
    /// @notice Emitted when allowances issued to an enterprise are held for it to claim instead of minted to it:
    /// a batch never calls into an enterprise's code (a contract could refuse the units or burn the batch's gas),
    /// nor stops at an enterprise the allowance will not mint to (frozen or revoked).
    event AllocationHeld(uint16 indexed year, address indexed enterprise, uint256 amount);
    /// @notice Emitted when a true-up takes back part of an allocation held for an enterprise (never minted, so not
    /// a claw-back).
    event HeldAllocationReduced(uint16 indexed year, address indexed enterprise, uint256 amount);
    /// @notice Emitted when an enterprise claims the allowances held for it.
    event AllocationClaimed(uint16 indexed year, address indexed enterprise, uint256 amount);
    /// @notice Emitted when an enterprise's carried debt changes.
    event DebtChanged(address indexed enterprise, uint16 indexed year, uint256 oldDebt, uint256 newDebt);

    // ------------------------------------------------------------------ regulator

    /// @notice Open `year` with its rules and sector benchmarks. Regulator only.
    function openYear(uint16 year, Rules calldata rules, uint16[] calldata sectors, uint64[] calldata benchmarks)
        external;

    /// @notice Change the rules of an open year before its deadline; emits the old and new rules. Regulator only.
    function setRules(uint16 year, Rules calldata rules) external;

    /// @notice Set sector benchmarks of an open year before its deadline. Regulator only.
    function setBenchmarks(uint16 year, uint16[] calldata sectors, uint64[] calldata benchmarks) external;

    /// @notice Enrol enterprises in `year` and mint their pre-allocation (held for a contract enterprise to claim,
    /// see `AllocationHeld`). `baselineOutputs[i]` is used for an enterprise without a verified previous year and
    /// must be zero otherwise. Regulator only.
    function enroll(uint16 year, address[] calldata enterprises, uint64[] calldata baselineOutputs) external;

    /// @notice Finalise the attested reports of `enterprises` and run their true-up: a top-up is minted like the
    /// pre-allocation; an excess is taken from what is held, then clawed back, the rest carried as debt.
    /// Regulator only.
    function finalize(uint16 year, address[] calldata enterprises) external;

    // ------------------------------------------------------------------ enterprises and verifiers

    /// @notice Submit (or, after a rejection, resubmit) the caller's report for `year`.
    function submitReport(uint16 year, uint64 emissions, uint64 output, bytes32 documentHash) external;

    /// @notice Attest `enterprise`'s latest report version. Active verifiers only.
    function attest(uint16 year, address enterprise) external;

    /// @notice Reject `enterprise`'s latest report version, with the hash of the reasons. Active verifiers only.
    function reject(uint16 year, address enterprise, bytes32 reasonHash) external;

    /// @notice Surrender `amount` of the caller's units of `id` for `year`: allowances of vintage <= `year`, offsets
    /// of vintage <= `year` up to the offset limit. The units are burned.
    function surrender(uint16 year, uint256 id, uint256 amount) external;

    /// @notice Mint to the caller the allowances of `year` held for it (see `AllocationHeld`).
    /// @return amount the units minted
    function claimAllocation(uint16 year) external returns (uint256 amount);

    /// @notice Settle up to `maxCount` more enterprises of `year` (at most `MAX_SETTLE_BATCH`), after the deadline.
    /// Anyone may call it; each call resumes where the last stopped. Within the year's settlement grace window
    /// only the regulator settles an enterprise whose report was submitted or attested but not finalised (the
    /// delay is not the enterprise's): another caller's batch stops before it (and reverts
    /// `Compliance__AwaitingFinalization` if that leaves nothing to settle).
    /// @return settled how many enterprises this call settled
    function settle(uint16 year, uint256 maxCount) external returns (uint256 settled);

    // ------------------------------------------------------------------ views

    /// @notice The rules of `year`.
    function rules(uint16 year) external view returns (Rules memory);

    /// @notice The benchmark of `sector` in `year`, in micro-tonnes per unit of output.
    function benchmark(uint16 year, uint16 sector) external view returns (uint64);

    /// @notice The running totals of `year`.
    function yearTotals(uint16 year) external view returns (YearTotals memory);

    /// @notice Where `year` stands.
    function phase(uint16 year) external view returns (Phase);

    /// @notice Everything about `enterprise` in `year`.
    function enterpriseYear(uint16 year, address enterprise) external view returns (EnterpriseYear memory);

    /// @notice Report version `version` (0-based) of `enterprise` in `year`.
    function report(uint16 year, address enterprise, uint256 version) external view returns (Report memory);

    /// @notice The enrolled enterprises of `year` from roster position `start`, at most `limit` of them.
    function roster(uint16 year, uint256 start, uint256 limit) external view returns (address[] memory);

    /// @notice The debt `enterprise` carries into its next allocation, in tonnes.
    function debtOf(address enterprise) external view returns (uint64);

    /// @notice The most offsets `enterprise` may surrender for `year` (0 until its report is finalised).
    function offsetLimit(uint16 year, address enterprise) external view returns (uint256);

    /// @notice The allowances of `year` held for `enterprise` to claim.
    function heldAllocation(uint16 year, address enterprise) external view returns (uint256);
}
