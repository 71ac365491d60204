"""The access-control matrix of a suite behind proxies handed to its governor (a timelock whose council is the
regulator and two more approvers, two of three to approve): every row of test_access_matrix.py that a regulator or
the admin holds, again, with the governor (the timelock itself, as the calls it makes once an action has run) among
the callers. A governed action
(GOVERNED: parameters, role grants, the registry admin's powers) is the governor's alone; every other row keeps its
callers, so a single regulator still pauses, freezes, recovers and enforces at once. Then the rows of governance
itself: upgrades, the council and the timelock."""

from __future__ import annotations

import pytest
from brownie.exceptions import VirtualMachineError

from carbon_market import governance as gov
from carbon_market.upgrade import code_of, proxy_admin_of
from tests.unit.test_access_matrix import CALLERS, GOVERNED, MATRIX, who, world  # noqa: F401 (the fixtures)

DAY = 86_400
GOVERNANCE = {
    "proxyAdmin.upgradeAndCall": (
        lambda s, w, c: proxy_admin_of(s.market).upgradeAndCall(s.market, code_of(s.market), b"", {"from": c}),
        {"governor"}),
    "proxyAdmin.transferOwnership": (
        lambda s, w, c: proxy_admin_of(s.money).transferOwnership(w["spare"], {"from": c}), {"governor"}),
    "council.approve": (
        lambda s, w, c: w["council"].approve([s.market.address], [0], [b""], b"\x01" * 32, {"from": c}),
        {"regulator"}),
    "council.setApprovers": (
        lambda s, w, c: w["council"].setApprovers([w["regulator"], w["spare"]], 2, {"from": c}), {"governor"}),
    "timelock.scheduleBatch": (
        lambda s, w, c: w["timelock"].scheduleBatch([s.market.address], [0], [b""], b"\0" * 32, b"\x02" * 32, DAY,
                                                    {"from": c}), set()),
    "timelock.updateDelay": (lambda s, w, c: w["timelock"].updateDelay(1, {"from": c}), {"governor"}),
}
#: the rows a hand-over can change: those of a regulator or the admin (the governed ones become the timelock's, the
#: others must stay a single regulator's); a row of anyone else (a holder's transfer, an issuer's mint) does not ask
#: the registry who governs (test_the_rows_left_out_ask_nobody_who_governs)
AUTHORITY = {"regulator", "admin"}
ROWS = {name: {"governor"} if name in GOVERNED else allowed | ({"governor"} if allowed == set(CALLERS) else set())
        for name, (_, allowed) in MATRIX.items() if allowed & AUTHORITY}
ROWS |= {name: allowed for name, (_, allowed) in GOVERNANCE.items()}


@pytest.fixture(scope="module")
def upgradeable():
    return True


@pytest.fixture(scope="module")
def governed(world, who, admin, newcomers, accounts):  # noqa: F811 (the imported fixtures)
    """The world handed over; the governor is the timelock, whose calls anvil lets the test make directly."""
    approvers = [who["regulator"], newcomers[3], newcomers[4]]
    governance = gov.hand_over(world, admin, approvers, threshold=2, delay=DAY, upgradeable=True)
    return world, who | {"governor": accounts.at(governance.timelock.address, force=True),
                         "council": governance.council, "timelock": governance.timelock}


#: who a hand-over can concern: the regulator (governed rows leave it), the admin (the deployer, whose powers go),
#: the governor, and an outsider as every other caller, whose checks (a grant, an active registration) ask nobody who
#: governs: test_access_matrix.py tests them all
GOVERNED_CALLERS = ("admin", "regulator", "governor", "outsider")


@pytest.mark.parametrize("caller", GOVERNED_CALLERS)
@pytest.mark.parametrize("function", sorted(ROWS))
def test_access_once_governed(governed, function, caller):
    suite, people = governed
    call = (MATRIX.get(function) or GOVERNANCE[function])[0]
    if caller in ROWS[function]:
        call(suite, people, people[caller])
    else:
        with pytest.raises(VirtualMachineError):
            call(suite, people, people[caller])


def test_every_governed_row_was_a_regulators_or_the_admins_before():
    assert set(MATRIX) >= GOVERNED
    assert all(MATRIX[name][1] in ({"regulator"}, {"admin"}) for name in GOVERNED)


def test_the_rows_left_out_ask_nobody_who_governs():
    """A row left out is open to everyone or held by a role granted on the part (system, developer...): its check
    is the grant and an active registration, which a hand-over does not change."""
    left_out = {name: allowed for name, (_, allowed) in MATRIX.items() if name not in ROWS}
    assert left_out and all(not allowed & AUTHORITY for allowed in left_out.values())
