"""Governance of the regulator's powers: a suite behind proxies handed to a timelock (one day) whose council is three
regulators, two of whom must approve. Governed actions (parameters, role grants, a new regulator, upgrades) need two
approvals and the day; a single regulator still pauses, freezes and enforces at once."""

from __future__ import annotations

import pytest

from carbon_market import governance as gov
from carbon_market.clock import sleep_until
from carbon_market.errors import reverts
from carbon_market.market import PARAMS, params_with
from carbon_market.roles import Role
from carbon_market.suite import PARTS, deploy_suite, identity_hash, implementation, onboarding, project
from carbon_market.upgrade import code_of, proxy_admin_of

DAY = 86_400
ZERO = gov.ZERO
REASON = identity_hash("governance test")


@pytest.fixture(scope="module")
def upgradeable():
    return True


@pytest.fixture(scope="module")
def council(newcomers):
    """Three regulators: the approvers."""
    return newcomers[:3]


@pytest.fixture(scope="module")
def governed(suite, admin, regulator, council, alice):
    suite.registry.onboardBatch([onboarding(r, Role.REGULATOR) for r in council], {"from": admin})
    return gov.hand_over(suite, admin, council, threshold=2, delay=DAY, upgradeable=True)


def _through(governed, act, approvers, by):
    """Approve with each of ``approvers``, wait the delay, run the action."""
    for approver in approvers:
        gov.approve(governed, act, approver)
    sleep_until(gov.ready_at(governed, act))
    return gov.execute(governed, act, by)


def test_after_the_hand_over_the_deployer_and_a_single_regulator_hold_no_governed_power(suite, governed, admin,
                                                                                         regulator, newcomers):
    timelock = governed.timelock
    assert suite.registry.governor() == timelock and suite.registry.admin() == timelock
    assert all(proxy_admin_of(getattr(suite, p)).owner() == timelock for p in PARTS)
    assert not timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), admin)
    with reverts("Registry__NotGovernor", regulator, timelock):
        suite.market.setParams(params_with(suite.market, feeBps=50), {"from": regulator})
    with reverts("Registry__NotGovernor", regulator, timelock):
        suite.allowance.grantRole(suite.allowance.ISSUER_ROLE(), regulator, {"from": regulator})
    with reverts("Registry__RegulatorRequiresAdmin", admin, newcomers[5]):
        suite.registry.onboard(onboarding(newcomers[5], Role.REGULATOR), {"from": admin})
    with reverts("OwnableUnauthorizedAccount", admin):
        proxy_admin_of(suite.market).upgradeAndCall(suite.market, code_of(suite.market), b"", {"from": admin})


def test_emergency_actions_stay_immediate_for_a_single_regulator(suite, governed, regulator, alice):
    suite.market.setPaused(True, {"from": regulator})
    assert suite.market.paused()
    suite.market.setPaused(False, {"from": regulator})
    suite.registry.freeze(alice, REASON, {"from": regulator})
    assert suite.registry.statusOf(alice) == 2  # frozen
    suite.registry.unfreeze(alice, REASON, {"from": regulator})
    suite.credit.regulatorMint(alice, 5, "enforcement stays operational", {"from": regulator})


def test_a_parameter_change_needs_two_approvals_and_the_delay(suite, governed, council, outsider):
    market = suite.market
    act = gov.action([(market.setParams, (params_with(market, feeBps=50),))], "fee to 50 bps")
    receipt = gov.approve(governed, act, council[0])
    assert governed.council.approvals(act.id) == 1 and gov.ready_at(governed, act) == 0
    assert receipt.events["ActionApproved"]["approvals"] == 1
    with reverts("Council__AlreadyApproved", act.id, council[0]):
        gov.approve(governed, act, council[0])
    with reverts("Council__NotApprover", outsider):
        gov.approve(governed, act, outsider)
    scheduled = gov.approve(governed, act, council[1])
    ready = gov.ready_at(governed, act)
    assert ready == scheduled.timestamp + DAY
    assert scheduled.events["ActionScheduled"]["readyAt"] == ready
    with reverts("TimelockUnexpectedOperationState"):
        gov.execute(governed, act, outsider)
    with reverts("Council__AlreadyScheduled", act.id):
        gov.approve(governed, act, council[2])
    sleep_until(ready)
    gov.execute(governed, act, outsider)  # anyone runs it once ready
    assert dict(zip(PARAMS, market.params()))["feeBps"] == 50
    assert gov.ready_at(governed, act) == 1  # done


def test_any_approver_cancels_a_scheduled_action_and_it_cannot_come_back(suite, governed, council, outsider):
    act = gov.action([(suite.credit.setTransfersEnabled, (True,))], "credit transfers on")
    gov.approve(governed, act, council[0])
    gov.approve(governed, act, council[1])
    with reverts("Council__NotApprover", outsider):
        gov.cancel(governed, act, outsider)
    gov.cancel(governed, act, council[2])
    assert gov.ready_at(governed, act) == 0
    with reverts("Council__Cancelled", act.id):
        gov.approve(governed, act, council[2])
    with reverts("Council__NotScheduled", act.id):
        gov.cancel(governed, act, council[0])
    assert not suite.credit.transfersEnabled()


def test_role_grants_and_a_new_regulator_go_through_the_council(suite, governed, regulator, council, outsider,
                                                               newcomers):
    newcomer, issuer = newcomers[5], newcomers[6]
    suite.registry.onboard(onboarding(issuer, Role.SYSTEM), {"from": regulator})  # registering stays immediate
    act = gov.action([(suite.registry.onboard, (onboarding(newcomer, Role.REGULATOR),)),
                      (suite.allowance.grantRole, (suite.allowance.ISSUER_ROLE(), issuer))], "a new regulator")
    _through(governed, act, council[1:], outsider)
    assert suite.registry.hasRole(newcomer, Role.REGULATOR)
    assert suite.allowance.hasRole(suite.allowance.ISSUER_ROLE(), issuer)


def test_an_upgrade_goes_through_the_council(suite, governed, council, outsider):
    contracts = project()
    parts = {name: getattr(suite, name) for name in PARTS}
    code = implementation("market", parts, governed.timelock, outsider, {"from": outsider},
                          container=contracts.MarketV2)
    admin = proxy_admin_of(suite.market)
    act = gov.action([(admin.upgradeAndCall, (suite.market, code, b""))], "market v2")
    _through(governed, act, council[:2], outsider)
    assert code_of(suite.market) == code.address


def test_the_council_changes_only_through_the_timelock(suite, governed, council, outsider, newcomers):
    with reverts("Council__OnlyTimelock", council[0]):
        governed.council.setApprovers(list(council), 3, {"from": council[0]})
    act = gov.action([(governed.council.setApprovers, (list(council) + [newcomers[7]], 3))], "four approvers")
    _through(governed, act, council[:2], outsider)
    assert governed.council.threshold() == 3 and len(governed.council.approvers()) == 4


@pytest.mark.parametrize("threshold", [1, 4])
def test_a_council_needs_more_than_one_approval_and_no_more_than_its_approvers(suite, admin, council, threshold):
    with pytest.raises(gov.GovernanceError, match="threshold of at least 2"):
        gov.hand_over(suite, admin, council, threshold=threshold, delay=DAY, upgradeable=True)
    with reverts("Council__BadThreshold", threshold, 3):
        project().RegulatorCouncil.deploy(suite.registry, list(council), threshold, {"from": admin})


def test_the_suite_is_handed_only_to_a_contract_and_only_by_its_admin(admin, regulator, outsider):
    direct = deploy_suite(admin, regulator)
    with reverts("Registry__GovernorWithoutCode", outsider):
        direct.registry.handOver(outsider, {"from": admin})
    with reverts("Registry__Unauthorized", regulator):
        direct.registry.handOver(direct.market, {"from": regulator})
    assert direct.registry.governor() == ZERO
    assert direct.market.hasRole(direct.market.GOVERNOR_ROLE(), regulator)  # no governor: every regulator governs


def test_deploy_hands_the_suite_to_the_approvers_it_is_given(accounts, council, monkeypatch, tmp_path):
    """``deploy`` with GOVERNANCE_APPROVERS: the record names the timelock and the council, the deployer keeps
    nothing; a threshold the approvers cannot reach is one line and nothing deployed."""
    from brownie import chain

    from carbon_market.deploy import DeployError, deploy

    monkeypatch.setenv("CARBON_MARKET_DEPLOYMENTS", str(tmp_path))
    monkeypatch.setenv("GOVERNANCE_APPROVERS", ",".join(str(a) for a in council))
    monkeypatch.setenv("GOVERNANCE_THRESHOLD", "4")
    with pytest.raises(DeployError, match="at most the 3 approvers .* not 4; nothing was deployed"):
        deploy(accounts, "governed", chain.id, development=True)
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv("GOVERNANCE_THRESHOLD", "2")
    monkeypatch.setenv("UPGRADEABLE", "1")
    suite, record, new = deploy(accounts, "governed", chain.id, development=True)
    g = record.governance
    assert new and record.upgradeable and (g["threshold"], g["delay"], g["approvers"]) == (2, 2 * DAY, [
        str(a) for a in council])
    assert suite.registry.governor() == g["timelock"] == suite.registry.admin()
    assert project().RegulatorCouncil.at(g["council"]).approvers() == list(council)
    assert all(proxy_admin_of(getattr(suite, p)).owner() == g["timelock"] for p in PARTS)
    assert {e["implementation"] for e in record.contracts.values() if "implementation" in e} == {
        code_of(getattr(suite, p)) for p in PARTS}
