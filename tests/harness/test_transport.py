"""carbon_market.ops.transport: the provider that tries again and sends a transaction at most once, through the
fault proxy (tests/integration/rpc_proxy.py) in front of the test chain. Each fault kind as a table row: the
request still answers, and a transaction sent through a fault lands exactly once."""

from __future__ import annotations

import socket

import pytest
from brownie import accounts, web3
from eth_account import Account
from web3 import Web3

from carbon_market.ops import transport
from carbon_market.ops.transport import Provider, Unreachable
from tests.integration.rpc_proxy import KINDS, Fault, Proxy

KEY = "0x" + "5a" * 32
PAYER = Account.from_key(KEY).address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def proxy():
    upstream = str(web3.provider.endpoint_uri).removeprefix("http://")
    running = Proxy(free_port(), upstream).start()
    yield running
    running.stop()


@pytest.fixture
def w3(proxy):
    return Web3(Provider(f"http://127.0.0.1:{proxy.port}", first_pause=0.01))


@pytest.fixture
def funded():
    accounts[0].transfer(PAYER, "1 ether")


def send_one(w3: Web3) -> str:
    tx = {"to": str(accounts[1]), "value": 1, "gas": 21_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 0,
          "nonce": w3.eth.get_transaction_count(PAYER), "chainId": w3.eth.chain_id, "type": 2}
    signed = Account.sign_transaction(tx, KEY)
    return w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()


@pytest.mark.parametrize("kind", KINDS)
def test_reads_answer_through_every_fault(proxy, w3, kind):
    proxy.inject(Fault(kind, every=2, delay=0.2))
    assert [w3.eth.block_number >= 0 for _ in range(6)] == [True] * 6
    # every 2nd request: a request that fails is tried again at once, the retry being the next request
    failing = kind in ("drop", "rate_limit", "server_error", "cut_after_send")
    assert (proxy.injected[kind], w3.provider.retries) == ((5, 5) if failing else (3, 0))


@pytest.mark.parametrize("kind", KINDS)
def test_a_transaction_sent_through_a_fault_lands_once(proxy, w3, funded, kind):
    proxy.inject(Fault(kind, every=1, times=1, methods=("eth_sendRawTransaction",), delay=0.2))
    before = web3.eth.get_transaction_count(PAYER)
    tx_hash = send_one(w3)
    assert proxy.injected[kind] == 1
    proxy.inject()
    assert int(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)["status"]) == 1
    assert web3.eth.get_transaction_count(PAYER) == before + 1


def test_a_send_the_node_refuses_is_the_node_s_answer(proxy, w3, funded):
    """A transaction that never reached the chain (a nonce from the future is refused by nothing here, so: a
    nonce already used) is not taken for one that did: the node's error comes back."""
    send_one(w3)
    tx = {"to": str(accounts[1]), "value": 2, "gas": 21_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 0,
          "nonce": 0, "chainId": w3.eth.chain_id, "type": 2}
    with pytest.raises(Exception, match="nonce"):
        w3.eth.send_raw_transaction(Account.sign_transaction(tx, KEY).raw_transaction)


def test_a_node_that_does_not_answer_is_one_line(monkeypatch):
    port = free_port()  # nothing listens there
    w3 = Web3(Provider(f"http://127.0.0.1:{port}", attempts=3, first_pause=0.01))
    with pytest.raises(Unreachable) as raised:
        _ = w3.eth.block_number
    assert str(raised.value) == (f"http://127.0.0.1:{port} did not answer eth_blockNumber in 3 tries (last: "
                                 f"ConnectionError); nothing was lost: run the same command again")
    assert raised.value.exit_code == transport.UNREACHABLE


def test_a_transaction_the_node_forgot_is_sent_again(w3, funded, monkeypatch):
    """A restarted node's pool is empty: a wait that finds the node no longer knows the transaction sends the same
    bytes again, and it is mined once."""
    monkeypatch.setattr(transport, "FORGOTTEN_CHECK", 0.0)
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        before = web3.eth.get_transaction_count(PAYER)
        tx_hash = send_one(w3)
        web3.provider.make_request("anvil_dropAllTransactions", [])
        assert not _found(tx_hash)
        assert w3.provider.make_request("eth_getTransactionReceipt", [tx_hash])["result"] is None  # sent again
        web3.provider.make_request("evm_mine", [])
        assert int(w3.eth.get_transaction_receipt(tx_hash)["status"]) == 1
        assert web3.eth.get_transaction_count(PAYER) == before + 1
    finally:
        web3.provider.make_request("evm_setAutomine", [True])


def _found(tx_hash: str) -> bool:
    return web3.provider.make_request("eth_getTransactionByHash", [tx_hash]).get("result") is not None
