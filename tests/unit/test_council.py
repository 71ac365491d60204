"""RegulatorCouncil in front of OpenZeppelin's TimelockController: approvals, scheduling, cancelling, the council
changed only by the timelock; every rule and its custom error."""

from __future__ import annotations

import pytest

from carbon_market import governance as gov
from carbon_market.errors import reverts
from carbon_market.suite import project

DAY = 86_400
ZERO = gov.ZERO


@pytest.fixture(scope="module")
def approvers(newcomers):
    return list(newcomers[:3])


@pytest.fixture(scope="module")
def governance(admin, approvers):
    contracts, tx = project(), {"from": admin}
    timelock = contracts.TimelockController.deploy(DAY, [], [ZERO], admin, tx)
    council = contracts.RegulatorCouncil.deploy(timelock, approvers, 2, tx)
    for role in (timelock.PROPOSER_ROLE(), timelock.CANCELLER_ROLE()):
        timelock.grantRole(role, council, tx)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), admin, tx)
    return gov.Governance(timelock=timelock, council=council)


def _change(governance, approvers, threshold, salt="change"):
    """An action: the council's own approvers replaced (a governed call the timelock makes)."""
    return gov.action([(governance.council.setApprovers, (approvers, threshold))], salt)


@pytest.mark.parametrize("threshold", [0, 1, 4])
def test_a_council_needs_at_least_two_approvals_of_its_approvers(admin, approvers, threshold):
    with reverts("Council__BadThreshold", threshold, 3):
        project().RegulatorCouncil.deploy(ZERO, approvers, threshold, {"from": admin})


def test_approvers_are_distinct_addresses_and_at_most_sixteen(admin, approvers, accounts):
    with reverts("Council__BadApprover", approvers[0]):
        project().RegulatorCouncil.deploy(ZERO, approvers + [approvers[0]], 2, {"from": admin})
    with reverts("Council__BadApprover", ZERO):
        project().RegulatorCouncil.deploy(ZERO, approvers + [ZERO], 2, {"from": admin})
    many = [f"0x{i:040x}" for i in range(1, 18)]
    with reverts("Council__BadThreshold", 2, 17):
        project().RegulatorCouncil.deploy(ZERO, many, 2, {"from": admin})


def test_views(governance, approvers):
    council = governance.council
    assert council.timelock() == governance.timelock
    assert council.approvers() == approvers and council.threshold() == 2 and council.MAX_APPROVERS() == 16


def test_a_batch_has_as_many_values_and_payloads_as_targets(governance, approvers):
    council = governance.council
    with reverts("Council__BadBatch", 0, 0, 0):
        council.approve([], [], [], b"\0" * 32, {"from": approvers[0]})
    with reverts("Council__BadBatch", 1, 0, 1):
        council.approve([council.address], [], [b""], b"\0" * 32, {"from": approvers[0]})
    with reverts("Council__BadBatch", 1, 1, 0):
        council.approve([council.address], [0], [], b"\0" * 32, {"from": approvers[0]})


def test_the_threshold_schedules_and_the_delay_holds(governance, approvers, outsider):
    act = _change(governance, approvers, 3)
    with reverts("Council__NotApprover", outsider):
        gov.approve(governance, act, outsider)
    first = gov.approve(governance, act, approvers[0])
    assert first.events["ActionApproved"]["approvals"] == 1 and "ActionScheduled" not in first.events
    assert governance.council.approved(act.id, approvers[0]) and not governance.council.approved(act.id, approvers[1])
    with reverts("Council__AlreadyApproved", act.id, approvers[0]):
        gov.approve(governance, act, approvers[0])
    second = gov.approve(governance, act, approvers[1])
    assert governance.council.approvals(act.id) == 2
    assert second.events["ActionScheduled"]["readyAt"] == second.timestamp + DAY == gov.ready_at(governance, act)
    with reverts("Council__AlreadyScheduled", act.id):
        gov.approve(governance, act, approvers[2])
    with reverts("TimelockUnexpectedOperationState"):
        gov.execute(governance, act, outsider)


def test_the_timelock_alone_changes_the_council(governance, approvers, outsider, chain):
    with reverts("Council__OnlyTimelock", approvers[0]):
        governance.council.setApprovers(approvers, 3, {"from": approvers[0]})
    act = _change(governance, approvers[1:], 2)
    gov.approve(governance, act, approvers[0])
    gov.approve(governance, act, approvers[1])
    chain.sleep(DAY)
    gov.execute(governance, act, outsider)
    assert governance.council.approvers() == approvers[1:]
    with reverts("Council__NotApprover", approvers[0]):
        gov.approve(governance, _change(governance, approvers, 2, "back"), approvers[0])
    with reverts("Council__AlreadyScheduled", act.id):  # done is not pending again
        gov.approve(governance, act, approvers[2])


def test_one_approver_cancels_and_a_cancelled_action_stays_cancelled(governance, approvers, outsider):
    act = _change(governance, approvers, 3, "cancelled")
    with reverts("Council__NotScheduled", act.id):
        gov.cancel(governance, act, approvers[0])
    gov.approve(governance, act, approvers[0])
    gov.approve(governance, act, approvers[1])
    with reverts("Council__NotApprover", outsider):
        gov.cancel(governance, act, outsider)
    tx = gov.cancel(governance, act, approvers[2])
    assert tx.events["ActionCancelled"]["by"] == approvers[2] and gov.ready_at(governance, act) == 0
    with reverts("Council__Cancelled", act.id):
        gov.approve(governance, act, approvers[2])
    with reverts("Council__NotScheduled", act.id):
        gov.cancel(governance, act, approvers[0])


@pytest.mark.parametrize("approvers_, threshold", [(3, 1), (3, 4), (17, 2)])
def test_the_timelock_cannot_change_the_council_into_one_of_a_single_approval(governance, accounts, approvers_,
                                                                               threshold):
    """The rules of a council's approvers, as the timelock meets them (the constructor's are checked at deployment,
    which the coverage tool does not trace)."""
    timelock = accounts.at(governance.timelock.address, force=True)
    many = [f"0x{i:040x}" for i in range(1, approvers_ + 1)]
    with reverts("Council__BadThreshold", threshold, approvers_):
        governance.council.setApprovers(many, threshold, {"from": timelock})


def test_the_timelock_cannot_name_an_approver_twice_or_the_zero_address(governance, accounts, approvers):
    timelock = accounts.at(governance.timelock.address, force=True)
    with reverts("Council__BadApprover", approvers[1]):
        governance.council.setApprovers([approvers[1], approvers[1]], 2, {"from": timelock})
    with reverts("Council__BadApprover", ZERO):
        governance.council.setApprovers([approvers[1], ZERO], 2, {"from": timelock})
    governance.council.setApprovers([approvers[2], approvers[0], approvers[1]], 3, {"from": timelock})
    assert governance.council.approvers() == [approvers[2], approvers[0], approvers[1]]
