// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICarbonAllowance} from "../../interfaces/ICarbonAllowance.sol";
import {ICompliance} from "../../interfaces/ICompliance.sol";
import {ICreditToken} from "../../interfaces/ICreditToken.sol";
import {IParticipantRegistry} from "../../interfaces/IParticipantRegistry.sol";

/// @dev The storage of `Compliance`, shared with the `ComplianceLogic` library that it delegates the batch
/// operations to (enrolment, finalisation, settlement) to stay under the contract size limit.

/// @dev Basis points in one whole.
uint256 constant BPS = 10_000;
/// @dev Benchmarks are micro-tonnes of CO2e per unit of output.
uint256 constant BENCHMARK_SCALE = 1_000_000;
/// @dev The most credit one rule may mint or burn.
uint256 constant MAX_CREDIT_PER_RULE = 1_000_000;
/// @dev The most enterprises `enroll` and `finalize` take in one call.
uint256 constant MAX_BATCH = 100;
/// @dev The most sectors `openYear` and `setBenchmarks` take in one call.
uint256 constant MAX_SECTORS = 64;
/// @dev The most enterprises one `settle` call settles: a full batch of the costliest outcome stays under
/// 15 million gas (`make bench` shows it).
uint256 constant MAX_SETTLE_BATCH = 200;

bytes32 constant REASON_EARLY = "COMPLIANCE_EARLY";
bytes32 constant REASON_ON_TIME = "COMPLIANCE_ON_TIME";
bytes32 constant REASON_ACCURATE = "ACCURATE_REPORT";
bytes32 constant REASON_LATE = "LATE_SURRENDER";
bytes32 constant REASON_SHORTFALL = "SHORTFALL";
bytes32 constant REASON_REJECTED = "REJECTED_REPORT";
bytes32 constant REASON_TRUE_UP = "TRUE_UP";

/// @dev Written at enrolment and true-up.
struct Allocation {
    uint64 baselineOutput;
    uint64 allocated;
    uint64 debtDeducted;
    uint64 clawedBack;
}

/// @dev Written by reviews, surrender and settlement.
struct Standing {
    uint64 allowancesSurrendered;
    uint64 offsetsSurrendered;
    uint40 completedAt;
    ICompliance.ReportState state;
    ICompliance.Outcome outcome;
    uint8 rejections;
    uint32 creditRewarded;
    uint32 creditBurned;
}

/// @dev Written at enrolment (sector), finalisation and settlement (shortfall).
struct Verification {
    uint64 emissions;
    uint64 output;
    uint64 shortfall;
    uint16 sector;
    uint40 finalizedAt;
}

/// @dev One enterprise in one year: three slots.
struct Record {
    Allocation allocation;
    Standing standing;
    Verification verification;
}

struct Year {
    ICompliance.Rules rules;
    ICompliance.YearTotals totals;
    address[] roster;
    mapping(uint16 sector => uint64) benchmarks;
    mapping(address enterprise => Record) records;
    mapping(address enterprise => ICompliance.Report[]) reports;
    mapping(address enterprise => uint256) held;
}

/// @dev The enrolment count keeps the slot non-zero, so that a debt change costs a rewrite, not a new slot.
struct Account {
    uint64 debt;
    uint32 enrolments;
}

/// @dev The contracts `Compliance` acts on.
struct Peers {
    IParticipantRegistry registry;
    ICarbonAllowance allowance;
    ICreditToken credit;
}

/// @title ComplianceStorage
/// @notice Lookups and checks on the compliance storage, shared by `Compliance` and `ComplianceLogic`.
library ComplianceStorage {
    function opened(mapping(uint16 => Year) storage ledger, uint16 year) internal view returns (Year storage y) {
        y = ledger[year];
        if (y.totals.openedAt == 0) revert ICompliance.Compliance__YearNotOpen(year);
    }

    function beforeDeadline(mapping(uint16 => Year) storage ledger, uint16 year)
        internal
        view
        returns (Year storage y)
    {
        y = opened(ledger, year);
        uint256 deadline = y.rules.deadline;
        if (block.timestamp > deadline) revert ICompliance.Compliance__DeadlinePassed(year, deadline);
    }

    /// @dev The record of an enrolled enterprise whose year is not settled yet.
    function unsettled(Year storage y, uint16 year, address enterprise) internal view returns (Record storage rec) {
        rec = y.records[enterprise];
        if (rec.standing.state == ICompliance.ReportState.None) {
            revert ICompliance.Compliance__NotEnrolled(year, enterprise);
        }
        if (rec.standing.outcome != ICompliance.Outcome.Pending) {
            revert ICompliance.Compliance__AlreadySettled(year, enterprise);
        }
    }

    function checkBatch(uint256 n, uint256 other, uint256 max) internal pure {
        if (n == 0 || n != other || n > max) revert ICompliance.Compliance__BadBatch(n, other, max);
    }

    function toUint64(uint256 value) internal pure returns (uint64) {
        if (value > type(uint64).max) revert ICompliance.Compliance__Overflow(value);
        return uint64(value);
    }

    function saturating64(uint256 value) internal pure returns (uint64) {
        return value > type(uint64).max ? type(uint64).max : uint64(value);
    }
}
