"""carbon_market.bulk: many calls in JSON-RPC batches, checked together, against the real contracts."""

import json

import pytest
from brownie import accounts as brownie_accounts
from brownie import chain

from carbon_market import bulk
from carbon_market.roles import Role
from carbon_market.suite import onboarding
from tests.conftest import ALLOWANCE_2026

TAG = b"BULK".ljust(32, b"\0")


def test_nothing_to_send():
    assert bulk.send([]) == []


def test_calls_of_one_sender_land_in_order(credit, issuer, alice, bob):
    before, nonce = (credit.balanceOf(alice), credit.balanceOf(bob)), issuer.nonce
    calls = [bulk.call(credit.reward, who, n, TAG, sender=issuer) for n in range(1, 301) for who in (alice, bob)]
    receipts = bulk.send(calls)
    assert len(receipts) == 600
    assert all(int(r["status"], 16) == 1 for r in receipts)
    total = sum(range(1, 301))
    assert (credit.balanceOf(alice), credit.balanceOf(bob)) == (before[0] + total, before[1] + total)
    assert issuer.nonce == nonce + 600


def test_each_batch_is_mined_before_the_next_is_posted(credit, issuer, alice, monkeypatch):
    """600 calls of one sender in batches of 250: posted and mined batch by batch (anvil's pool never holds more
    than a batch), so the blocks they land in follow the batches."""
    monkeypatch.setattr(bulk, "SEND_BATCH", 250)
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer) for _ in range(600)]
    blocks = [int(r["blockNumber"], 16) for r in bulk.send(calls)]
    batches = [blocks[start:start + 250] for start in range(0, len(blocks), 250)]
    assert len(batches) == 3 and all(max(earlier) < min(later) for earlier, later in zip(batches, batches[1:]))


def test_a_batch_ends_before_its_requests_grow_too_large_for_the_node(credit, issuer, alice, monkeypatch):
    """A batch ends at :data:`bulk.SEND_BYTES` as well as at :data:`bulk.SEND_BATCH` calls (anvil refuses a
    request of more than about 2 MB): at a bound of two calls' size, every second call starts a batch of its own,
    mined in a block of its own."""
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer) for _ in range(6)]
    monkeypatch.setattr(bulk, "SEND_BYTES", 2 * bulk._size(bulk._request(calls[0], 0, 100_000, 0, 0)))
    blocks = [int(r["blockNumber"], 16) for r in bulk.send(calls)]
    assert blocks[0::2] == blocks[1::2] and len(set(blocks)) == 3 and blocks == sorted(blocks)


def test_a_call_may_carry_its_own_gas_limit(registry, regulator, newcomers):
    """A call's own limit wins over the batch's: the same onboarding with too little gas of its own fails (its
    sender's first call: a later call's limit is raised to its sender's earlier ones, see the next tests)."""
    calls = [bulk.call(registry.onboard, onboarding(newcomers[1], Role.INVESTOR), sender=regulator, gas=30_000),
             bulk.call(registry.onboard, onboarding(newcomers[0], Role.INVESTOR), sender=regulator)]
    with pytest.raises(bulk.BulkError, match=r"1 of 2 calls failed; first #0 .*out of gas"):
        bulk.send(calls)


def test_fuller_blocks_for_a_while(credit, issuer, alice, outsider):
    """Blocks of the given gas inside, the node's own limit again after (and after a failure inside)."""
    from brownie import web3

    before = web3.eth.get_block("latest")["gasLimit"]
    with pytest.raises(bulk.BulkError), bulk.fuller_blocks(100_000_000):
        receipt, = bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer)])
        assert web3.eth.get_block(int(receipt["blockNumber"], 16))["gasLimit"] == 100_000_000
        bulk.send([bulk.call(credit.reward, outsider, 1, TAG, sender=issuer)])  # not a participant: fails
    chain.mine()
    assert web3.eth.get_block("latest")["gasLimit"] == before
    assert web3.provider.make_request("anvil_getAutomine", [])["result"] is True


def test_stretches_of_fuller_blocks_one_after_another_leave_the_node_its_own_limit(credit, issuer, alice):
    """The second stretch begins while the latest block is still one of the first's: the limit it restores is the
    node's own, not that block's."""
    from brownie import web3

    before = web3.eth.get_block("latest")["gasLimit"]
    for _ in range(2):
        with bulk.fuller_blocks(100_000_000):
            bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer)])
    chain.mine()
    assert web3.eth.get_block("latest")["gasLimit"] == before


@pytest.fixture
def requests_made(monkeypatch):
    """The JSON-RPC requests the harness makes (a batch counted once), by method."""
    from brownie import web3

    made = []
    single, batch = web3.provider.make_request, web3.provider.make_batch_request
    monkeypatch.setattr(web3.provider, "make_request", lambda m, p: made.append(m) or single(m, p))
    monkeypatch.setattr(web3.provider, "make_batch_request",
                        lambda requests: made.append("+".join(sorted({m for m, _ in requests}))) or batch(requests))
    return made


def test_a_send_inside_fuller_blocks_takes_four_requests(credit, issuer, alice, requests_made):
    """Nonces, the batch, a block, the block's receipts (which show the batch all mined: the pool is not asked):
    mining is paused once for the stretch, not once per send, and nothing is asked that an unsigned call does not
    need (the chain id, the gas price). A sender's nonce is asked once in the stretch: its next send takes three."""
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer)] * 3
    with bulk.fuller_blocks(100_000_000):
        requests_made.clear()
        bulk.send(calls)
        assert requests_made == ["eth_getTransactionCount", "eth_sendTransaction", "evm_mine", "eth_getBlockReceipts"]
        requests_made.clear()
        bulk.send(calls)
        assert requests_made == ["eth_sendTransaction", "evm_mine", "eth_getBlockReceipts"]
    requests_made.clear()
    bulk.send(calls)  # alone, a send pauses mining for itself and restores it
    assert requests_made == ["anvil_getAutomine", "evm_setAutomine", "eth_getTransactionCount", "eth_sendTransaction",
                             "evm_mine", "eth_getBlockReceipts", "evm_setAutomine"]


def test_after_a_send_the_node_refused_the_nonces_are_asked_again(credit, issuer, alice, requests_made):
    """Inside fuller blocks, a send whose batch the node refused (a sender it does not hold) forgets the nonces it
    knew: what reached the node is not known. The next send asks for them, and its calls land."""
    stranger = bulk.address_of("a sender the node does not hold")
    with bulk.fuller_blocks(100_000_000):
        bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer)])
        with pytest.raises(bulk.BulkError, match="was refused"):
            bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer),
                       bulk.call(credit.reward, alice, 1, TAG, sender=stranger)])
        requests_made.clear()
        receipt, = bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer)])
        assert requests_made[0] == "eth_getTransactionCount" and int(receipt["status"], 16) == 1


def test_a_batch_larger_than_a_block_is_mined_until_the_pool_is_empty(credit, issuer, alice):
    """Blocks of 300,000 gas hold a few rewards each: the send mines block after block, reading each one's receipts
    and asking the pool only when a block left some of the batch behind."""
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer) for _ in range(12)]
    with bulk.fuller_blocks(300_000):
        receipts = bulk.send(calls, gas=100_000)
    blocks = [int(r["blockNumber"], 16) for r in receipts]
    assert len(set(blocks)) > 1 and blocks == sorted(blocks)
    assert all(int(r["status"], 16) == 1 for r in receipts)


def test_several_senders_interleaved(allowance, issuer, alice, bob):
    allowance.mint(alice, ALLOWANCE_2026, 100, {"from": issuer})
    allowance.mint(bob, ALLOWANCE_2026, 100, {"from": issuer})
    transfer = allowance.safeTransferFrom
    calls = []
    for _ in range(40):
        calls.append(bulk.call(transfer, alice, bob, ALLOWANCE_2026, 2, b"", sender=alice))
        calls.append(bulk.call(transfer, bob, alice, ALLOWANCE_2026, 1, b"", sender=bob))
    bulk.send(calls)
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == 60
    assert allowance.balanceOf(bob, ALLOWANCE_2026) == 140


def test_failed_call_is_named_with_its_custom_error(credit, issuer, alice, outsider):
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer),
             bulk.call(credit.reward, outsider, 1, TAG, sender=issuer),
             bulk.call(credit.reward, alice, 1, TAG, sender=issuer)]
    with pytest.raises(bulk.BulkError, match=r"1 of 3 calls failed; first #1 CreditToken.reward\(0x.*, 1, 0x42554c4b0+\) from .*: Registry__NotActive"):
        bulk.send(calls)
    # the calls are independent transactions: the others landed
    assert credit.balanceOf(alice) == 2


def test_out_of_gas_is_reported(registry, regulator, newcomers):
    calls = [bulk.call(registry.onboard, onboarding(newcomers[0], Role.INVESTOR), sender=regulator)]
    with pytest.raises(bulk.BulkError, match="out of gas"):
        bulk.send(calls, gas=30_000)


def test_locally_held_key_signs_its_own(registry, allowance, regulator, issuer, alice):
    local = brownie_accounts.add()
    try:
        registry.onboard(onboarding(local, Role.INVESTOR), {"from": regulator})
        allowance.mint(local, ALLOWANCE_2026, 5, {"from": issuer})
        alice_before = allowance.balanceOf(alice, ALLOWANCE_2026)
        regulator.transfer(local, "1 ether")
        calls = [bulk.call(allowance.safeTransferFrom, local, alice, ALLOWANCE_2026, 1, b"", sender=local)] * 5
        bulk.send(calls)
        assert allowance.balanceOf(alice, ALLOWANCE_2026) == alice_before + 5
    finally:
        brownie_accounts.remove(local)


def test_gas_used_reads_the_receipt(credit, issuer, alice):
    (receipt,) = bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer)])
    assert 30_000 < bulk.gas_used(receipt) < 120_000


def test_read_decodes_like_brownie(funded, alice, bob):
    money, allowance = funded.money, funded.allowance
    views = [(money.balanceOf, alice), (allowance.balanceOf, bob, ALLOWANCE_2026), (money.decimals,)]
    assert bulk.read(views) == [money.balanceOf(alice), allowance.balanceOf(bob, ALLOWANCE_2026), 6]


def test_read_many_and_at_a_block(funded, issuer, alice):
    before = len(chain)
    funded.allowance.mint(alice, ALLOWANCE_2026, 5, {"from": issuer})
    views = [(funded.allowance.balanceOf, alice, ALLOWANCE_2026)] * (bulk.BATCH + 3)
    now = bulk.read(views)
    assert len(now) == bulk.BATCH + 3 and set(now) == {1_005}
    assert bulk.read(views[:1], block=before - 1) == [1_000]


def test_failed_read_is_named(funded):
    with pytest.raises(bulk.BulkError, match=r"view Market.instrument\(99\) failed: Market__UnknownInstrument\(instrument=99\)"):
        bulk.read([(funded.market.instrument, 99)])


def test_the_local_node_is_reached_through_the_lean_session():
    """``go_direct`` (the conftest runs it) gives web3's provider for a node on this machine the standard library's
    kept-alive connections, and the chain answers through it."""
    from brownie import web3

    assert isinstance(web3.provider._request_session_manager, bulk.LocalSession)
    assert web3.eth.block_number == chain.height
    bulk.go_direct()  # twice is once
    assert isinstance(web3.provider._request_session_manager, bulk.LocalSession)


def test_the_resilient_provider_of_live_networks_is_left_alone():
    """Its retries read requests' own errors: its session stays requests'."""
    from carbon_market.ops.transport import Provider

    provider = Provider("http://127.0.0.1:1")
    manager = provider._request_session_manager
    from brownie import web3

    kept, web3.provider = web3.provider, provider
    try:
        bulk.go_direct()
        assert web3.provider._request_session_manager is manager
    finally:
        web3.provider = kept


@pytest.fixture
def closing_server():
    """A JSON-RPC server on this machine that answers each request with its id and closes every second
    connection after answering (a node that restarted, a proxy that times idle connections out)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            served.append(request["method"])
            body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": len(served)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = len(served) % 2 == 0

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()


def test_a_batch_to_the_local_node_is_encoded_in_one_pass():
    """The body of a batch is the standard library's JSON of its requests, with the provider's own ids (web3 puts
    the answers back in order by them); a value only web3's encoder can write (bytes) still goes, through it."""
    from brownie import web3
    from hexbytes import HexBytes

    bulk.go_direct()
    assert web3.provider.encode_batch_rpc_request.func is bulk._encode_batch
    body = json.loads(web3.provider.encode_batch_rpc_request([("eth_chainId", []), ("eth_blockNumber", None)]))
    assert [(r["jsonrpc"], r["method"], r["params"]) for r in body] == [("2.0", "eth_chainId", []),
                                                                        ("2.0", "eth_blockNumber", [])]
    assert body[1]["id"] == body[0]["id"] + 1
    (written,) = json.loads(web3.provider.encode_batch_rpc_request([("eth_call", [{"data": HexBytes("0x01")}])]))
    assert written["params"] == [{"data": "0x01"}]
    assert web3.provider.make_batch_request([("eth_chainId", []), ("eth_blockNumber", [])])[0]["result"] == \
        hex(web3.eth.chain_id)


def test_a_connection_the_node_closed_is_opened_again(closing_server):
    url, served = closing_server
    session = bulk.LocalSession()
    answers = [session.make_post_request(url, {"jsonrpc": "2.0", "id": n, "method": f"m{n}", "params": []})
               for n in range(6)]
    assert [int(a.decode().split('"result": ')[1].rstrip("}")) for a in answers] == [1, 2, 3, 4, 5, 6]
    assert served == [f"m{n}" for n in range(6)]  # each once: none lost, none sent twice


def test_a_node_that_is_not_there_is_requests_connection_error():
    import requests

    with pytest.raises(requests.ConnectionError, match="127.0.0.1:1"):
        bulk.LocalSession().make_post_request("http://127.0.0.1:1", b"{}")


def test_a_light_call_behind_heavy_ones_of_its_sender_is_not_lost(credit, issuer, alice):
    """Anvil fills a block while the gas used so far plus a call's limit fits: a sender's calls of large limits stop
    fitting, its last call, of a small limit, still fits, and anvil tries it out of turn (its nonce too high) and
    drops it. Each sender's calls of a batch carry the largest limit among them, so the light one waits its turn."""
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer, gas=500_000) for _ in range(5)]
    calls.append(bulk.call(credit.reward, alice, 1, TAG, sender=issuer, gas=60_000))
    with bulk.fuller_blocks(600_000):
        receipts = bulk.send(calls)
    assert len(receipts) == 6 and all(int(r["status"], 16) == 1 for r in receipts)
    blocks = [int(r["blockNumber"], 16) for r in receipts]
    assert len(set(blocks)) > 1 and blocks == sorted(blocks)


def test_turns_run_each_after_the_one_before_in_one_block(allowance, issuer, alice, bob):
    """Three senders, each needing what the one before it did: the issuer mints to alice, alice passes the units to
    bob, bob passes them back. Sent in turns, they run in that order, in one block."""
    mint, transfer, held = allowance.mint, allowance.safeTransferFrom, allowance.balanceOf
    before = held(alice, ALLOWANCE_2026), held(bob, ALLOWANCE_2026)
    calls = [bulk.call(mint, alice, ALLOWANCE_2026, 5, sender=issuer),
             bulk.call(transfer, alice, bob, ALLOWANCE_2026, before[0] + 5, b"", sender=alice),
             bulk.call(transfer, bob, alice, ALLOWANCE_2026, before[0] + before[1] + 5, b"", sender=bob)]
    receipts = bulk.send(calls, turns=[1, 2])
    places = [(int(r["blockNumber"], 16), int(r["transactionIndex"], 16)) for r in receipts]
    assert len({block for block, _ in places}) == 1 and places == sorted(places)
    assert (held(alice, ALLOWANCE_2026), held(bob, ALLOWANCE_2026)) == (sum(before) + 5, 0)


def test_a_turn_waits_for_the_calls_before_it_that_a_block_did_not_hold(allowance, issuer, alice, bob):
    """Blocks of 600,000 gas: the issuer's mints of 500,000 gas limits stop fitting after two, alice's transfer of
    everything minted, light, would still fit and run before the mints it needs (and fail). Its limit is raised to
    the turn before it's: it waits for the next blocks with them."""
    held = allowance.balanceOf(alice, ALLOWANCE_2026) + 5
    calls = [bulk.call(allowance.mint, alice, ALLOWANCE_2026, 1, sender=issuer, gas=500_000) for _ in range(5)]
    calls.append(bulk.call(allowance.safeTransferFrom, alice, bob, ALLOWANCE_2026, held, b"", sender=alice, gas=80_000))
    with bulk.fuller_blocks(600_000):
        receipts = bulk.send(calls, turns=[5])
    assert len({int(r["blockNumber"], 16) for r in receipts}) > 1
    assert allowance.balanceOf(alice, ALLOWANCE_2026) == 0


def test_inside_fuller_blocks_calls_of_many_senders_run_in_the_order_sent(registry, money, regulator):
    """300 senders, one call each, in one send: each call carries a gas price one above the next's, and the block runs
    them in the order sent (at one price, of 600 such calls anvil ran 280 before the call sent ahead of them: which
    of a call auction's orders its rationed price fills depends on that order)."""
    senders = [bulk.address_of(f"ordered sender {i}") for i in range(300)]
    bulk.act_for(senders)
    bulk.send([bulk.call(registry.onboardBatch, [onboarding(a, Role.ENTERPRISE) for a in senders[k:k + 100]],
                         sender=regulator, gas=15_000_000) for k in range(0, 300, 100)])
    calls = [bulk.call(money.approve, senders[0], i + 1, sender=who) for i, who in enumerate(senders)]
    with bulk.fuller_blocks(100_000_000):
        receipts = bulk.send(calls)
    places = [(int(r["blockNumber"], 16), int(r["transactionIndex"], 16)) for r in receipts]
    assert len({block for block, _ in places}) == 1 and places == sorted(places)


def test_a_turn_run_before_the_one_it_follows_is_named(credit, issuer, alice):
    """What :func:`bulk.send` checks once a send with turns is mined."""
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer) for _ in range(3)]
    ran = [{"blockNumber": "0x5", "transactionIndex": hex(i)} for i in (0, 2, 1)]
    bulk._check_turns(calls, ran, frozenset({1}))  # the second and third: one turn, either order
    with pytest.raises(bulk.BulkError, match=r"call #2 .* ran before call #1 .*, which it had to follow"):
        bulk._check_turns(calls, ran, frozenset({1, 2}))


#: what a lean receipt keeps of a receipt, and must keep as it is
KEPT = ("transactionHash", "blockHash", "blockNumber", "transactionIndex", "status", "logs")


def test_lean_receipts_are_the_receipts_less_their_gas(suite, credit, issuer, alice, bob):
    """Made from blocks and their logs, a send's receipts are the node's own in all but their gas, which the
    blocks' gas counts: calls that emitted (rewards, over several blocks) and one that emitted nothing (an empty
    claim: read as a receipt), all in the node's order."""
    from brownie import web3

    calls = [bulk.call(credit.reward, who, n, TAG, sender=issuer) for n in range(1, 13) for who in (alice, bob)]
    calls.insert(5, bulk.call(suite.market.claim, [], sender=alice))
    with bulk.fuller_blocks(400_000), bulk.lean_receipts() as mined:
        lean = bulk.send(calls, gas=100_000)
    full = [web3.provider.make_request("eth_getTransactionReceipt", [r["transactionHash"]])["result"] for r in lean]
    assert [{k: r[k] for k in KEPT} for r in lean] == [{k: r[k] for k in KEPT} for r in full]
    assert not full[5]["logs"] and all(r["logs"] for i, r in enumerate(full) if i != 5)
    assert all(bulk.gas_used(r) == 0 for r in lean)
    assert mined.blocks == len({r["blockNumber"] for r in full}) > 1
    assert mined.gas == sum(map(bulk.gas_used, full))


def test_a_failed_call_among_lean_receipts_is_named(credit, issuer, alice, outsider):
    calls = [bulk.call(credit.reward, alice, 1, TAG, sender=issuer),
             bulk.call(credit.reward, outsider, 1, TAG, sender=issuer)]
    with pytest.raises(bulk.BulkError, match=r"1 of 2 calls failed; first #1 .*Registry__NotActive"), \
            bulk.fuller_blocks(100_000_000), bulk.lean_receipts():
        bulk.send(calls)


def test_a_send_with_lean_receipts_takes_four_requests(credit, issuer, alice, requests_made):
    """Nonces, the batch, a block, the block and its logs (in one request): as many as with the block's receipts."""
    with bulk.fuller_blocks(100_000_000), bulk.lean_receipts():
        requests_made.clear()
        bulk.send([bulk.call(credit.reward, alice, 1, TAG, sender=issuer)] * 3)
        assert requests_made == ["eth_getTransactionCount", "eth_sendTransaction", "evm_mine",
                                 "eth_getBlockByNumber+eth_getLogs"]
