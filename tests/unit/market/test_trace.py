"""carbon_market.trace: histories rebuilt from events alone match what was sent and what the chain holds."""

from brownie import chain

from carbon_market.market import Side
from carbon_market.trace import account_history, order_history, suite_events, unit_history
from tests.conftest import ALLOWANCE_2026, OFFSET_7_2025

BUY, SELL = Side.BUY, Side.SELL


def test_order_history_is_its_life(market, place, funded, exchange, alice, bob):
    start = chain.height + 1
    maker = place(alice, SELL, 6_010, 5).events["OrderPlaced"]["orderId"]
    place(bob, BUY, 6_010, 3)
    place(bob, BUY, 6_010, 1)
    market.claim([maker], {"from": exchange})
    market.cancel(maker, {"from": alice})
    life = order_history(funded, maker, start)
    assert [e.name for e in life] == ["OrderPlaced", "OrderFilled", "OrderFilled", "OrderClaimed", "OrderCancelled"]
    assert [int(e.fields["lots"]) for e in life if e.name == "OrderFilled"] == [3, 1]
    assert int(life[-1].fields["remaining"]) == 1
    assert all(e.tx.startswith("0x") and e.block >= start for e in life)


def test_unit_history_adds_up_to_the_balances(market, place, funded, alice, bob, carol, dave):
    place(alice, SELL, 6_000, 7)
    place(carol, BUY, 6_000, 7)
    funded.allowance.safeTransferFrom(bob, carol, ALLOWANCE_2026, 11, b"", {"from": bob})
    history = unit_history(funded, ALLOWANCE_2026)
    holders = {alice.address, bob.address, carol.address, market.address}
    assert {h: history.balances.get(h, 0) for h in holders} == {
        h: funded.allowance.balanceOf(h, ALLOWANCE_2026) for h in holders}
    assert history.minted - history.burned == funded.allowance.totalSupply(ALLOWANCE_2026)
    assert any(e.name == "Issued" for e in history.events)
    assert all(int(e.fields.get("id", ALLOWANCE_2026)) == ALLOWANCE_2026 for e in history.events)
    assert unit_history(funded, OFFSET_7_2025).balances == {dave.address: 300}  # another id, untouched


def test_account_history_names_the_account_everywhere(market, place, funded, carol):
    place(carol, BUY, 5_990, 2)
    seen = {(e.contract, e.name) for e in account_history(funded, carol)}
    assert ("ParticipantRegistry", "ParticipantOnboarded") in seen
    assert ("CarbonAllowance", "Issued") in seen
    assert ("SettlementToken", "Transfer") in seen
    assert ("Market", "OrderPlaced") in seen
    events = suite_events(funded)
    assert events == sorted(events, key=lambda e: (e.block, e.log_index))
