// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {ICompliance} from "../../interfaces/ICompliance.sol";
import {IParticipantRegistry} from "../../interfaces/IParticipantRegistry.sol";
import {AllowanceId} from "./AllowanceId.sol";
import {Roles} from "./Roles.sol";
import "./ComplianceStorage.sol" as S;
import {ComplianceStorage, Year, Record, Allocation, Standing, Verification, Account, Peers} from "./ComplianceStorage.sol";

/// @title ComplianceLogic
/// @notice The batch operations of `Compliance`, run by delegate call in its storage: enrolment with
/// pre-allocation, finalisation with true-up, and settlement. A linked library (as Aave v3 does) keeps
/// `Compliance` under the 24 KiB contract size limit; the library holds no state of its own.
library ComplianceLogic {
    using ComplianceStorage for Year;

    /// @dev What settlement decides for one enterprise-year.
    struct Verdict {
        ICompliance.Outcome outcome;
        uint256 shortfall;
        uint256 reward;
        uint256 penalty;
        bytes32 reason;
    }

    /// @dev What a true-up did for one enterprise-year.
    struct Adjustment {
        uint256 entitlement;
        uint256 minted;
        uint256 deducted;
        uint256 clawed;
        uint256 debtAdded;
    }

    // ------------------------------------------------------------------ enrolment and pre-allocation

    /// @notice Enrol `enterprises` in `year` and mint their pre-allocation (see `ICompliance.enroll`).
    function enroll(
        mapping(uint16 => Year) storage ledger,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address[] calldata enterprises,
        uint64[] calldata baselineOutputs
    ) external {
        Year storage y = ComplianceStorage.beforeDeadline(ledger, year);
        uint256 n = enterprises.length;
        ComplianceStorage.checkBatch(n, baselineOutputs.length, S.MAX_BATCH);
        uint256 bps = y.rules.preAllocationBps;
        uint256 allocated = 0;
        for (uint256 i; i < n; ++i) {
            allocated += _enroll(ledger, accounts, peers, year, enterprises[i], baselineOutputs[i], bps);
        }
        ICompliance.YearTotals storage t = y.totals;
        // n <= MAX_BATCH per call; the roster is bounded far below 2^32 by the gas of enrolment
        t.enterprises = uint32(t.enterprises + n);
        t.allocated = ComplianceStorage.toUint64(t.allocated + allocated);
    }

    function _enroll(
        mapping(uint16 => Year) storage ledger,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address enterprise,
        uint64 baseline,
        uint256 bps
    ) private returns (uint256 preAllocation) {
        Year storage y = ledger[year];
        Record storage rec = y.records[enterprise];
        if (rec.standing.state != ICompliance.ReportState.None) {
            revert ICompliance.Compliance__AlreadyEnrolled(year, enterprise);
        }
        uint16 sector = _enterpriseSector(peers.registry, enterprise);
        uint256 bench = y.benchmarks[sector];
        if (bench == 0) revert ICompliance.Compliance__NoBenchmark(year, sector);

        Record storage previous = ledger[year - 1].records[enterprise];
        if (previous.standing.state == ICompliance.ReportState.Finalized) {
            uint64 verified = previous.verification.output;
            if (baseline != 0) revert ICompliance.Compliance__BaselineConflict(enterprise, baseline, verified);
            baseline = verified;
        }
        preAllocation = ComplianceStorage.toUint64(bench * baseline * bps / (S.BENCHMARK_SCALE * S.BPS));
        uint256 deducted = _takeDebt(accounts, enterprise, year, preAllocation);
        // both fit 64 bits: deducted <= preAllocation, which toUint64 checked
        rec.allocation = Allocation(baseline, uint64(preAllocation), uint64(deducted), 0);
        rec.standing.state = ICompliance.ReportState.Enrolled;
        rec.verification.sector = sector;
        y.roster.push(enterprise);
        ++accounts[enterprise].enrolments;
        uint256 minted = preAllocation - deducted;
        emit ICompliance.PreAllocated(year, enterprise, baseline, preAllocation, deducted, minted);
        _deliver(y, peers, year, enterprise, minted);
    }

    /// @dev The sector of a registered enterprise that may be enrolled: active, or frozen (its allocation is then
    /// held, so that one frozen enterprise cannot revert a batch); a revoked or unregistered account reverts
    /// `Registry__NotActive`, one without the enterprise role `Registry__MissingRole`, as the registry's checks do.
    function _enterpriseSector(IParticipantRegistry registry, address enterprise) private view returns (uint16) {
        IParticipantRegistry.Participant memory p = registry.participant(enterprise);
        if (p.status != IParticipantRegistry.Status.Active && p.status != IParticipantRegistry.Status.Frozen) {
            revert IParticipantRegistry.Registry__NotActive(enterprise, p.status);
        }
        if (p.roles & Roles.ENTERPRISE == 0) revert IParticipantRegistry.Registry__MissingRole(enterprise, Roles.ENTERPRISE);
        return p.sector;
    }

    /// @dev Mints `amount` of `year`'s allowances to `enterprise`, or holds them for it to claim. A batch never
    /// calls into an enterprise's code: a contract could refuse the units, re-enter, or burn the batch's gas in its
    /// receiver hook. Nor does it stop at an enterprise the allowance will not mint to (frozen or revoked).
    /// An account without code has no hook, so the mint costs what it costs and can only fail for that reason.
    function _deliver(Year storage y, Peers memory peers, uint16 year, address enterprise, uint256 amount) private {
        if (amount == 0) return;
        if (enterprise.code.length == 0) {
            try peers.allowance.mint(enterprise, AllowanceId.allowance(year), amount) {
                return;
            } catch (bytes memory err) {
                _rethrowUnlessNotActive(err, enterprise);
            }
        }
        y.held[enterprise] += amount;
        emit ICompliance.AllocationHeld(year, enterprise, amount);
    }

    // ------------------------------------------------------------------ held allocations

    /// @notice Mint to `enterprise` the allowances of `year` held for it (see `ICompliance.claimAllocation`).
    function claim(mapping(uint16 => Year) storage ledger, Peers memory peers, uint16 year, address enterprise)
        external
        returns (uint256 amount)
    {
        Year storage y = ledger[year];
        amount = y.held[enterprise];
        if (amount == 0) revert ICompliance.Compliance__NothingToClaim(year, enterprise);
        y.held[enterprise] = 0;
        emit ICompliance.AllocationClaimed(year, enterprise, amount);
        peers.allowance.mint(enterprise, AllowanceId.allowance(year), amount);
    }

    // ------------------------------------------------------------------ finalisation and true-up

    /// @notice Finalise the attested reports of `enterprises` and run their true-up (see `ICompliance.finalize`).
    function finalize(
        mapping(uint16 => Year) storage ledger,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address[] calldata enterprises
    ) external {
        Year storage y = ComplianceStorage.opened(ledger, year);
        uint256 n = enterprises.length;
        ComplianceStorage.checkBatch(n, n, S.MAX_BATCH);
        for (uint256 i; i < n; ++i) {
            _finalize(y, accounts, peers, year, enterprises[i]);
        }
    }

    function _finalize(
        Year storage y,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address enterprise
    ) private {
        Record storage rec = y.unsettled(year, enterprise);
        Standing storage s = rec.standing;
        if (s.state != ICompliance.ReportState.Attested) {
            revert ICompliance.Compliance__InvalidState(year, enterprise, s.state);
        }
        ICompliance.Report[] storage versions = y.reports[enterprise];
        // state Attested means at least one version exists
        uint256 index;
        unchecked {
            index = versions.length - 1;
        }
        ICompliance.Report storage latest = versions[index];
        uint64 emissions = latest.emissions;
        rec.verification.emissions = emissions;
        rec.verification.output = latest.output;
        rec.verification.finalizedAt = uint40(block.timestamp);
        s.state = ICompliance.ReportState.Finalized;
        // nothing to surrender: complete when the enterprise itself reported, however late the finalisation
        if (emissions == 0) s.completedAt = latest.submittedAt;
        ICompliance.YearTotals storage t = y.totals;
        ++t.finalized;
        t.verifiedEmissions = ComplianceStorage.toUint64(uint256(t.verifiedEmissions) + emissions);
        emit ICompliance.ReportFinalized(year, enterprise, index, emissions, latest.output);

        _trueUp(y, accounts, peers, year, enterprise, rec);

        if (s.rejections == 0) {
            // at most two rules of MAX_CREDIT_PER_RULE each apply to one enterprise-year
            s.creditRewarded += uint32(_reward(peers, year, enterprise, y.rules.rewardAccurate, S.REASON_ACCURATE));
        } else {
            s.creditBurned += uint32(_penalize(peers, enterprise, y.rules.penaltyRejected, S.REASON_REJECTED));
        }
    }

    /// @dev Brings the year's allocation to benchmark x verified output: mints the difference (less debt), or
    /// claws it back from the year's allowances and carries what cannot be clawed back as debt.
    function _trueUp(
        Year storage y,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address enterprise,
        Record storage rec
    ) private {
        Allocation memory a = rec.allocation;
        Verification storage v = rec.verification;
        // slither-disable-next-line uninitialized-local (a memory struct is zeroed when declared; filled below)
        Adjustment memory adj;
        adj.entitlement = ComplianceStorage.toUint64(uint256(y.benchmarks[v.sector]) * v.output / S.BENCHMARK_SCALE);
        if (adj.entitlement > a.allocated) {
            _topUp(y, accounts, peers, year, enterprise, a, adj);
        } else if (adj.entitlement < a.allocated) {
            _takeBack(y, accounts, peers, year, enterprise, a, adj);
        }
        a.allocated = uint64(adj.entitlement);
        rec.allocation = a;
        emit ICompliance.TrueUp(
            year, enterprise, adj.entitlement, adj.minted, adj.deducted, adj.clawed, adj.debtAdded
        );
    }

    function _topUp(
        Year storage y,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address enterprise,
        Allocation memory a,
        Adjustment memory adj
    ) private {
        uint256 topUp = adj.entitlement - a.allocated;
        adj.deducted = _takeDebt(accounts, enterprise, year, topUp);
        adj.minted = topUp - adj.deducted;
        // deducted <= topUp <= entitlement, which fits 64 bits, as does the debt deducted in total
        a.debtDeducted += uint64(adj.deducted);
        ICompliance.YearTotals storage t = y.totals;
        t.allocated = ComplianceStorage.toUint64(uint256(t.allocated) + topUp);
        _deliver(y, peers, year, enterprise, adj.minted);
    }

    /// @dev Takes back the excess allocation: first from what is held for the enterprise (never minted, so not
    /// counted as clawed back), then by clawing back its balance of the year's allowances; what neither covers is
    /// carried as debt.
    function _takeBack(
        Year storage y,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        address enterprise,
        Allocation memory a,
        Adjustment memory adj
    ) private {
        uint256 id = AllowanceId.allowance(year);
        uint256 excess = a.allocated - adj.entitlement;
        uint256 held = y.held[enterprise];
        uint256 fromHeld = held < excess ? held : excess;
        if (fromHeld != 0) {
            // never minted: not a claw-back of units (the allowance's totals would not show it)
            y.held[enterprise] = held - fromHeld;
            emit ICompliance.HeldAllocationReduced(year, enterprise, fromHeld);
        }
        uint256 rest = excess - fromHeld;
        uint256 balance = rest == 0 ? 0 : IERC1155(address(peers.allowance)).balanceOf(enterprise, id);
        uint256 fromBalance = balance < rest ? balance : rest;
        adj.clawed = fromBalance;
        adj.debtAdded = rest - fromBalance;
        // clawed <= excess <= allocated, which fits 64 bits; the year's totals include this allocation
        ICompliance.YearTotals storage t = y.totals;
        a.clawedBack += uint64(adj.clawed);
        t.allocated -= uint64(excess);
        t.clawedBack += uint64(adj.clawed);
        if (adj.debtAdded != 0) _addDebt(accounts, enterprise, year, adj.debtAdded);
        if (fromBalance != 0) peers.allowance.clawBack(enterprise, id, fromBalance, S.REASON_TRUE_UP);
    }

    // ------------------------------------------------------------------ settlement

    /// @notice Settle up to `maxCount` more enterprises of `year` (see `ICompliance.settle`).
    function settle(
        mapping(uint16 => Year) storage ledger,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        uint16 year,
        uint256 maxCount
    ) external returns (uint256 settled) {
        Year storage y = ComplianceStorage.opened(ledger, year);
        ICompliance.Rules memory r = y.rules;
        if (block.timestamp <= r.deadline) revert ICompliance.Compliance__DeadlineNotPassed(year, r.deadline);
        if (maxCount == 0 || maxCount > S.MAX_SETTLE_BATCH) {
            revert ICompliance.Compliance__BadBatch(maxCount, 0, S.MAX_SETTLE_BATCH);
        }
        ICompliance.YearTotals memory t = y.totals;
        uint256 from = t.settled;
        uint256 to = from + maxCount;
        if (to > t.enterprises) to = t.enterprises;
        if (from == to) revert ICompliance.Compliance__NothingToSettle(year);
        for (uint256 i = from; i < to; ++i) {
            address enterprise = y.roster[i];
            if (!_settleOne(y, accounts, peers, r, year, enterprise, t)) {
                if (i == from) {
                    revert ICompliance.Compliance__AwaitingFinalization(
                        year, enterprise, uint256(r.deadline) + r.settlementGrace
                    );
                }
                to = i;
                break;
            }
        }
        // to <= enterprises, a uint32
        t.settled = uint32(to);
        y.totals = t;
        settled = to - from;
        emit ICompliance.SettlementAdvanced(year, from, to, msg.sender);
    }

    /// @dev Whether the caller may settle an enterprise awaiting a verifier or the regulator: after the grace
    /// window anyone, inside it the regulator.
    function _maySettleAwaiting(Peers memory peers, ICompliance.Rules memory r) private view returns (bool) {
        return block.timestamp > uint256(r.deadline) + r.settlementGrace
            || peers.registry.hasRole(msg.sender, Roles.REGULATOR);
    }

    /// @dev Whether a report awaits a verifier or the regulator (not the enterprise).
    function _awaiting(ICompliance.ReportState state) private pure returns (bool) {
        return state == ICompliance.ReportState.Submitted || state == ICompliance.ReportState.Attested;
    }

    /// @dev Settles one enterprise-year and adds its figures to the batch's running totals `t`; returns false, and
    /// settles nothing, for an enterprise awaiting a verifier or the regulator inside the grace window unless the
    /// regulator calls (the registry is asked only when such an enterprise comes up).
    function _settleOne(
        Year storage y,
        mapping(address => Account) storage accounts,
        Peers memory peers,
        ICompliance.Rules memory r,
        uint16 year,
        address enterprise,
        ICompliance.YearTotals memory t
    ) private returns (bool) {
        Record storage rec = y.records[enterprise];
        Standing memory s = rec.standing;
        if (_awaiting(s.state) && !_maySettleAwaiting(peers, r)) return false;
        Verdict memory v = _assess(y, r, rec, s, enterprise);
        s.outcome = v.outcome;
        if (v.shortfall != 0) {
            // shortfall <= an obligation or an assessment that fits 64 bits
            rec.verification.shortfall = uint64(v.shortfall);
            _addDebt(accounts, enterprise, year, v.shortfall);
            t.fines += v.shortfall * r.finePerTonne;
            t.shortfall = ComplianceStorage.saturating64(uint256(t.shortfall) + v.shortfall);
        }
        uint256 rewarded = _reward(peers, year, enterprise, v.reward, v.reason);
        uint256 burned = _penalize(peers, enterprise, v.penalty, v.reason);
        // rewards and penalties are bounded by MAX_CREDIT_PER_RULE and at most two apply per enterprise-year;
        // the year's sums stay far below 2^64 (2^32 enterprises x 2 x 10^6)
        unchecked {
            s.creditRewarded += uint32(rewarded);
            s.creditBurned += uint32(burned);
            t.creditRewarded += uint64(rewarded);
            t.creditBurned += uint64(burned);
            ++t.outcomes[uint8(v.outcome)];
        }
        rec.standing = s;
        emit ICompliance.EnterpriseSettled(
            year, enterprise, v.outcome, v.shortfall, v.shortfall * r.finePerTonne, rewarded, burned
        );
        return true;
    }

    /// @dev The outcome of an enterprise-year and the credit rule that applies to it.
    function _assess(
        Year storage y,
        ICompliance.Rules memory r,
        Record storage rec,
        Standing memory s,
        address enterprise
    )
        private
        view
        returns (Verdict memory)
    {
        if (s.state != ICompliance.ReportState.Finalized) {
            // no finalised report: assessed as an enterprise at the benchmark with its pre-allocation output
            uint256 assessed =
                uint256(y.benchmarks[rec.verification.sector]) * rec.allocation.baselineOutput / S.BENCHMARK_SCALE;
            return Verdict(
                ICompliance.Outcome.Unverified,
                ComplianceStorage.saturating64(assessed),
                0,
                r.penaltyShortfall,
                S.REASON_SHORTFALL
            );
        }
        uint256 obligation = rec.verification.emissions;
        uint256 surrendered = uint256(s.allowancesSurrendered) + s.offsetsSurrendered;
        if (surrendered < obligation) {
            return Verdict(
                ICompliance.Outcome.Short, obligation - surrendered, 0, r.penaltyShortfall, S.REASON_SHORTFALL
            );
        }
        if (s.completedAt > r.deadline && _lateByItself(y, r, rec, enterprise)) {
            return Verdict(ICompliance.Outcome.Late, 0, 0, r.penaltyLate, S.REASON_LATE);
        }
        if (s.completedAt <= r.earlyDeadline) {
            return Verdict(ICompliance.Outcome.Early, 0, r.rewardEarly, 0, S.REASON_EARLY);
        }
        return Verdict(ICompliance.Outcome.OnTime, 0, r.rewardOnTime, 0, S.REASON_ON_TIME);
    }

    /// @dev Whether a surrender completed after the deadline is the enterprise's own delay: its report was
    /// finalised in time to surrender before the deadline, or it submitted that report after the deadline. An
    /// enterprise finalised late through no act of its own, which surrenders in full before settlement reaches it,
    /// is on time.
    function _lateByItself(Year storage y, ICompliance.Rules memory r, Record storage rec, address enterprise)
        private
        view
        returns (bool)
    {
        if (rec.verification.finalizedAt <= r.deadline) return true;
        ICompliance.Report[] storage versions = y.reports[enterprise];
        // a finalised report has at least one version
        unchecked {
            return versions[versions.length - 1].submittedAt > r.deadline;
        }
    }

    // ------------------------------------------------------------------ credit

    /// @dev Mints `amount` credit to `enterprise`; when the enterprise is not active (frozen or revoked) the reward
    /// is forfeited instead, so that one enterprise cannot stall settlement. Any other failure reverts.
    function _reward(Peers memory peers, uint16 year, address enterprise, uint256 amount, bytes32 reason)
        private
        returns (uint256)
    {
        if (amount == 0) return 0;
        try peers.credit.reward(enterprise, amount, reason) {
            return amount;
        } catch (bytes memory err) {
            _rethrowUnlessNotActive(err, enterprise);
            emit ICompliance.RewardForfeited(year, enterprise, amount, reason);
            return 0;
        }
    }

    function _penalize(Peers memory peers, address enterprise, uint256 amount, bytes32 reason)
        private
        returns (uint256)
    {
        if (amount == 0) return 0;
        return peers.credit.penalize(enterprise, amount, reason);
    }

    /// @dev Reverts with `err` unless it is `Registry__NotActive` about `account`.
    function _rethrowUnlessNotActive(bytes memory err, address account) private pure {
        if (_isNotActive(err, account)) return;
        assembly ("memory-safe") {
            revert(add(err, 0x20), mload(err))
        }
    }

    /// @dev Whether `err` is `Registry__NotActive(account, ...)` about `account`.
    function _isNotActive(bytes memory err, address account) private pure returns (bool) {
        if (err.length < 36 || bytes4(err) != IParticipantRegistry.Registry__NotActive.selector) return false;
        address who;
        assembly ("memory-safe") {
            who := mload(add(err, 0x24))
        }
        return who == account;
    }

    // ------------------------------------------------------------------ debt

    /// @dev Pays as much of `enterprise`'s debt as `amount` allows; returns what was paid.
    function _takeDebt(mapping(address => Account) storage accounts, address enterprise, uint16 year, uint256 amount)
        private
        returns (uint256 paid)
    {
        Account storage acc = accounts[enterprise];
        uint256 debt = acc.debt;
        if (debt == 0 || amount == 0) return 0;
        paid = debt < amount ? debt : amount;
        // paid <= debt, a uint64
        uint64 left = uint64(debt - paid);
        acc.debt = left;
        emit ICompliance.DebtChanged(enterprise, year, debt, left);
    }

    /// @dev Adds to `enterprise`'s debt, saturating at 2^64 - 1 so that settlement never reverts on it.
    function _addDebt(mapping(address => Account) storage accounts, address enterprise, uint16 year, uint256 amount)
        private
    {
        Account storage acc = accounts[enterprise];
        uint256 debt = acc.debt;
        uint64 total = ComplianceStorage.saturating64(debt + amount);
        acc.debt = total;
        emit ICompliance.DebtChanged(enterprise, year, debt, total);
    }
}
