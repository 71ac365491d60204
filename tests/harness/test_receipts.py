"""carbon_market.receipts: brownie's receipt wait, made safe on anvil."""

from brownie.network.transaction import TransactionReceipt

from carbon_market import receipts


def test_installed_once_on_import():
    method = TransactionReceipt._await_confirmation
    assert getattr(method, "_carbon_market_fix", False)
    receipts.install()
    assert TransactionReceipt._await_confirmation is method


def test_a_mined_transaction_has_its_receipt(credit, issuer, alice):
    tx = credit.reward(alice, 1, b"\x01" * 32, {"from": issuer})
    assert tx.status == 1
    assert receipts.wait_for_receipt(tx.txid, patience=0)


def test_an_unknown_transaction_runs_out_of_patience():
    assert not receipts.wait_for_receipt("0x" + "ab" * 32, patience=0.05)


def test_locally_signed_transactions_confirm(registry, regulator, accounts):
    local = accounts.add()
    try:
        regulator.transfer(local, "1 ether")
        tx = local.transfer(regulator, 1)
        assert tx.status == 1
        assert receipts.wait_for_receipt(tx.txid, patience=0)
    finally:
        accounts.remove(local)
