"""What each command of ``carbon-market`` does once brownie is connected (``carbon_market.cli``): find the suite of
the connected network and run the command. A failure is raised as a :class:`~carbon_market.failures.CarbonMarketError`
with one line for the user, which the command line prints and exits with."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from carbon_market import audit, ops, settings, trace
from carbon_market.console import quiet, say, show
from carbon_market.deploy import DeployError, Record, attach, commit, deploy, load, signers
from carbon_market.failures import BadInput
from carbon_market.ops.spec import Step
from carbon_market.suite import Suite


def connected_suite(accounts: Any, *, deploy_on_development: bool = False) -> Suite:
    """The suite of the network brownie is connected to, from its deployment record. On a development chain
    (started afresh by brownie for this command) it is deployed first if asked."""
    from brownie import chain, network
    from brownie._config import CONFIG

    name = network.show_active()
    development = CONFIG.network_type == "development"
    if development and deploy_on_development:
        with quiet():
            return deploy(accounts, name, chain.id, development=True)[0]
    return attach(recorded(name, chain.id))


def recorded(name: str, chain_id: int) -> Record:
    """The deployment record of a network, or one line saying how to make it."""
    record = load(name, chain_id)
    if record is None:
        raise DeployError(f"no deployment record for {name} (chain id {chain_id}); run make deploy NETWORK={name}")
    return record


def run_deploy(accounts: Any, redeploy: bool) -> int:
    """``carbon-market deploy``: deploy (or reuse) the suite of the connected network and print its record."""
    from brownie import chain, network
    from brownie._config import CONFIG

    name = network.show_active()
    _, record, new = deploy(accounts, name, chain.id, development=CONFIG.network_type == "development",
                            redeploy=redeploy)
    print(f"{'deployed' if new else 'reusing'} the suite on {name} (chain id {record.chain_id}), record "
          f"{record.path}, commit {record.commit}")
    for contract, entry in record.contracts.items():
        print(f"  {contract:16} {entry['address']}  block {entry['block']:>6}  gas {entry.get('gas', 0):>10,}")
    created = sum(e.get("gas", 0) + e.get("implementation_gas", 0) for e in record.contracts.values())
    what = " (the parts' proxies and their code)" if record.upgradeable else ""
    print(f"  contract creation gas: {created:,}{what}" + (f"; the deployment paid {fees(record.fees)}" if new else ""))
    return 0


def run_upgrade(parts: list[str], accounts: Any) -> int:
    """``carbon-market upgrade``: deploy this build's code of ``parts`` and point their proxies at it (the deployer
    owns the ProxyAdmins); on a suite handed to a timelock, deploy it and print the governed action that does it."""
    import json

    from brownie import chain, network
    from brownie._config import CONFIG

    from carbon_market.upgrade import UpgradeError, code_of, new_code, upgrade

    name = network.show_active()
    record = recorded(name, chain.id)
    if not record.upgradeable:
        raise UpgradeError(f"the suite on {name} was deployed without proxies: its code is final (deploy with "
                           f"UPGRADEABLE=1 to replace code later)")
    suite = attach(record)
    deployer, regulator = signers(accounts, CONFIG.network_type == "development")
    if record.governance:
        with quiet():
            codes = {part: new_code(suite, part, deployer, regulator).address for part in parts}
        print(f"deployed the new code of {', '.join(parts)}; on {name} an upgrade is a governed action: its approvers "
              f"run this step ({record.governance['threshold']} of them), then execute_action once the timelock's "
              f"delay ({record.governance['delay']} s) has passed")
        step = {"approve_action": {"action": f"upgrade {' '.join(parts)} to {commit()}",
                                   "approvers": ["<approver names of the operations file>"],
                                   "calls": [{"upgrade": part, "code": code} for part, code in codes.items()]}}
        print(json.dumps([step], indent=2))
        return 0
    for part in parts:
        before = code_of(getattr(suite, part))
        with quiet():
            suite, _ = upgrade(suite, part, deployer, regulator)
        after = record.contracts[part]["implementation"] = code_of(getattr(suite, part))
        print(f"  {part:16} {getattr(suite, part).address}  code {before} -> {after}")
    record.path.write_text(json.dumps(asdict(record), indent=2) + "\n")
    print(f"upgraded {', '.join(parts)} on {name}; the record {record.path} names the new code")
    return 0


def _tqdm_progress(what: str, total: int) -> Callable[[Step, str | None], None]:
    from tqdm import tqdm

    bar = tqdm(total=total, desc=what, unit="step", file=sys.stderr, dynamic_ncols=True)

    def update(step: Step, label: str | None) -> None:
        if label is not None:
            bar.set_postfix_str(f"{step.kind}: {label}", refresh=True)
            return
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return update


def run_operations(path: str, dry_run: bool, journal: str, accounts: Any) -> int:
    """``carbon-market ops``: run (or, on a dry run, only check) an operations file."""
    from brownie import network, web3
    from brownie._config import CONFIG

    try:
        plan = ops.load(path)
    except ops.SpecError as exc:
        raise BadInput(plan_problems(exc)) from None
    suite = connected_suite(accounts, deploy_on_development=True)
    environment = settings.current()
    fault = environment.crash_after  # fault injection, for the recovery tests
    journal = journal or environment.journal
    outcome = ops.operate(plan, suite, url=web3.provider.endpoint_uri, network=network.show_active(),
                          development=CONFIG.network_type == "development", dry_run=dry_run,
                          journal=Path(journal) if journal else None,
                          accounts=accounts, fault=ops.Fault(fault) if fault else None,
                          progress=_tqdm_progress if sys.stderr.isatty() else None,
                          gas_price=fixed_gas_price(CONFIG.active_network["settings"].get("gas_price")))
    print_outcome(outcome, dry_run)
    return 0


def fixed_gas_price(setting: Any) -> int | None:
    """The gas price a network's settings fix (0 on development chains, and on a network whose entry in
    network-config.yaml says so: the consortium chain), or None where the node is to be asked (``auto``, unset)."""
    return int(setting) if isinstance(setting, int) and not isinstance(setting, bool) else None


def plan_problems(exc: ops.SpecError) -> str:
    head, *rest = exc.problems
    return "\n".join([str(exc).split(":", 1)[0] + f": {head}", *(f"  also: {p}" for p in rest)])


def print_outcome(outcome: ops.Outcome, dry_run: bool) -> None:
    verb = "would send" if dry_run else "sent"
    print(f"{'dry run on ' if dry_run else ''}{outcome.node}: {len(outcome.steps)} steps, {verb} "
          f"{outcome.sent} transactions, {outcome.gas:,} gas" + ("" if dry_run else f", {fees(outcome.fee)}"))
    if outcome.lost:
        print(f"  the chain no longer has {outcome.lost} of the journal's mined transactions (a node restarted on "
              f"an older state, or a reorganisation): {'they would be' if dry_run else 'they were'} sent again, "
              f"each only while its nonce was unused")
    for r in outcome.steps:
        if r.resumed:
            state = "done by an earlier run"
        else:
            state = f"{r.sent} tx, {r.gas:,} gas" + (f", {fees(r.fee)}" if r.fee else "") + (
                f" ({r.skipped} found in the journal)" if r.skipped else "")
        made = ", ".join(f"{k}={v:#x}" if v >= 2**64 else f"{k}={v}" for k, v in r.refs.items())
        print(f"  {r.step.title():44} {state}{'  [' + made + ']' if made else ''}")


def fees(wei: int) -> str:
    """What transactions cost, in the chain's currency (18 decimals, as ether)."""
    return f"fees {Decimal(wei).scaleb(-18):f} in the chain's currency"


def run_story(accounts: Any) -> int:
    """``carbon-market story``: run the pilot year's operations file on a fresh development chain with the
    operations runner, then tell it from the chain (events alone) and write the audit at the last block."""
    from brownie import chain, network, web3
    from brownie._config import CONFIG

    from carbon_market import story
    from carbon_market.ops.node import Node
    from carbon_market.ops.runner import signers
    from carbon_market.suite import codec_for

    if CONFIG.network_type != "development":
        raise BadInput("the story moves the chain's clock to the deadlines: run it on a development network")
    plan = ops.load(story.PILOT)
    suite = connected_suite(accounts, deploy_on_development=True)
    start = web3.eth.block_number + 1
    say(f"Running {story.PILOT} with the operations runner (checked on a fork of the chain first)")
    outcome = ops.operate(plan, suite, url=web3.provider.endpoint_uri, network=network.show_active(),
                          development=True, accounts=accounts)
    print_outcome(outcome, dry_run=False)
    node = Node(web3, codec_for(suite), name=network.show_active(), development=True)
    names = {s.address: name for name, s in signers(plan, node).items()}
    names.update({getattr(suite, c).address: c for c in ("compliance", "market", "desk", "offsets")})
    say(f"What the chain says happened (blocks {start} to {web3.eth.block_number}, from the events alone)")
    for line in story.tell(suite, names, start):
        show(line)
    at = web3.eth.block_number
    report, written = story.write_audit(suite, at, STORY_OUT, network=network.show_active(), chain_id=chain.id)
    say(f"Audit at block {at}: {len(report.participants)} participants, {len(report.trades)} trades, "
        f"{len(report.compliance)} compliance records: {written[-1]}")
    say("Surveillance of the year (policies/surveillance.yaml)")
    run_surveil(start, at, "", str(STORY_OUT / "surveillance"), accounts, suite=suite, names=names)
    return 0


#: where the story writes its audit
STORY_OUT = Path("out/story")

TRACE_USAGE = ("carbon-market trace order|unit|account|report|auction|reserve "
               "<order id | token id | address | year:address | auction id | ->")
AUDIT_USAGE = "carbon-market audit [--block n] [--out folder] [--network name]"


def run_trace(what: str, ident: str, from_block: str, accounts: Any) -> int:
    """``carbon-market trace``: print a history rebuilt from events."""
    suite = connected_suite(accounts)
    try:
        lines = trace_lines(suite, what, ident, int(from_block or 0))
    except ValueError as exc:
        raise BadInput(f"{exc}; usage: {TRACE_USAGE}") from None
    for line in lines:
        print(line)
    return 0


def trace_lines(suite: Suite, what: str, ident: str, start: int) -> list[str]:
    if what == "order":
        return [str(e) for e in trace.order_history(suite, int(ident, 0), start)]
    if what == "unit":
        units = trace.unit_history(suite, int(ident, 0), start)
        return [*map(str, units.events), *(f"balance {holder}: {amount:,}" for holder, amount in
                                           units.balances.items()),
                f"minted {units.minted:,}, burned {units.burned:,}"]
    if what == "account":
        return [str(e) for e in trace.account_history(suite, _address(ident), start)]
    if what == "report":
        year, _, enterprise = ident.partition(":")
        history = trace.report_history(suite, int(year), _address(enterprise), start)
        record = ", ".join(f"{k} {v.name.lower() if hasattr(v, 'name') else f'{v:,}'}"
                           for k, v in history.record.items())
        return [*map(str, history.events), f"report {year} of {enterprise}: {record}"]
    if what == "auction":
        auction = trace.auction_history(suite, int(ident, 0), start)
        summary = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in auction.record.items())
        return [*map(str, auction.events), f"auction {int(ident, 0)}: {summary}"]
    if what == "reserve":
        movements = trace.reserve_movements(suite, start)
        return [", ".join(f"{k} {v}" for k, v in row.items() if v != "") for row in movements]
    raise ValueError(f"WHAT must be order, unit, account, report, auction or reserve, not {what!r}")


def _address(text: str) -> str:
    from web3 import Web3

    if not Web3.is_address(text):
        raise ValueError(f"{text!r} is not an address")
    return Web3.to_checksum_address(text)


def run_audit(block: str, out: str, accounts: Any) -> int:
    """``carbon-market audit``: write the audit report at ``block`` (default: the latest) into ``out`` (default:
    ``audits/<network>-<chain id>-<block>``)."""
    from brownie import chain, network, web3

    suite = connected_suite(accounts)
    latest = web3.eth.block_number
    try:
        at = latest if block in ("", "latest") else int(block)
        if not 0 <= at <= latest:
            raise ValueError(f"block {at} is not between 0 and the latest block {latest}")
    except ValueError as exc:
        raise BadInput(f"{exc}; usage: {AUDIT_USAGE}") from None
    report = audit.build(suite, at, network=network.show_active(), chain_id=chain.id)
    written = audit.write(report, Path(out or f"audits/{network.show_active()}-{chain.id}-{at}"))
    print(f"audit of {network.show_active()} at block {at}: {len(report.participants)} participants, "
          f"{len(report.holdings)} holdings, {len(report.trades)} trades, {len(report.compliance)} compliance "
          f"records, {len(report.by_region)} regions, {len(report.by_sector)} sectors")
    for path in written:
        print(f"  {path}")
    return 0


#: where the simulation writes its report unless told
SIMULATION_OUT = Path("out/simulation")
#: where a planning study keeps its runs and report unless told
PLANNING_OUT = Path("out/planning")


#: the development networks a study's workers run on, one chain each (network-config.yaml: chains that keep only
#: their last 100 states, all a study reads)
WORKER_NETWORKS = ("planning", "planning-2", "planning-3")
#: a study of at most this many enterprises runs one worker more than the machine has cores: a worker's harness and
#: node take turns, and a third worker on two cores fills their waits (the demo: 384 s on two workers, 355 s on
#: three); a larger study's nodes are too large for it (8.8 GB each at 3,000 enterprises)
EXTRA_WORKER_UP_TO = 200


def worker_count(asked: int, enterprises: int, runs: int) -> int:
    """How many workers a study runs: as asked, else one per core (one more for a small study), never more than
    there are worker networks or runs."""
    cores = os.cpu_count() or 1
    default = cores + (1 if enterprises <= EXTRA_WORKER_UP_TO else 0)
    return max(1, min(asked or default, len(WORKER_NETWORKS), runs))


def run_plan(enterprises: int, years: int, seeds: int, names: str, out: str, accounts: Any, *,
             workers: int = 0, share: tuple[int, int] | None = None) -> int:
    """``carbon-market plan`` and ``demo``: run the study's runs not yet in its folder, print the comparison and
    write the report. Stopped (Ctrl-C), the runs finished are kept and the same command resumes. On a development
    chain the runs are divided between ``workers`` processes (default: :func:`worker_count`), each on a chain of its
    own; ``share`` is a worker's part (the command a worker is started with)."""
    from brownie._config import CONFIG

    from carbon_market.sim import dashboard, study

    chosen = tuple(n.strip() for n in names.split(",") if n.strip()) if names else tuple(study.SCENARIOS)
    if not 1 <= seeds <= 1_000:
        raise BadInput(f"the number of seeds must be between 1 and 1,000, not {seeds}")
    plan = study.Study(chosen, tuple(range(1, seeds + 1)), enterprises, years=years)
    folder = Path(out) if out else PLANNING_OUT
    if CONFIG.network_type != "development":
        raise BadInput("a planning study runs on a development chain (it moves the clock and acts for enterprises)")
    if share is not None:  # a worker: its part, no report
        with quiet():
            study.run_study(plan, accounts, folder, share=share, progress=lambda line: show(f"[{share[0] + 1}] {line}"))
        return 0
    count = worker_count(workers, enterprises, len(plan.runs))
    study.check_folder(plan, folder)
    say(f"planning study: {len(chosen)} scenarios x {seeds} seeds, {enterprises} enterprises over {years} years: "
        f"{len(plan.runs)} runs on {count} chain(s), kept in {folder}")
    helpers = [_start_worker(k, count, enterprises, years, seeds, names, folder) for k in range(1, count)]
    try:
        with quiet():
            study.run_study(plan, accounts, folder, share=(0, count), progress=lambda line: show(f"[1] {line}"))
        failed = [k for k, helper in enumerate(helpers, 2) if helper.wait() != 0]
    except KeyboardInterrupt:
        for helper in helpers:
            helper.wait()
        kept = sum(1 for s, seed in plan.runs if study.run_path(folder, s, seed).exists())
        say(f"stopped: {kept} of {len(plan.runs)} runs kept in {folder}; the same command resumes")
        return 130
    if failed:
        raise BadInput(f"worker {failed[0]} stopped (its lines above say why); the same command resumes")
    records = study.load_study(plan, folder)
    written = dashboard.write(records, folder)
    runs = study.frames(records)["runs"]
    for line in dashboard.text(runs):
        show(line)
    say("headlines")
    for line in dashboard.headlines(runs):
        show(line)
    say(f"report: {written[0]} (years.csv, groups.csv and runs.csv beside it)")
    return 0


def _start_worker(k: int, count: int, enterprises: int, years: int, seeds: int, names: str, folder: Path) -> Any:
    """A worker process for share ``k`` of ``count`` on a development chain of its own."""
    import subprocess

    command = [sys.executable, "-c", "import sys; from carbon_market.cli import main; sys.exit(main())", "plan",
               "--network", WORKER_NETWORKS[k], "--enterprises", str(enterprises), "--years", str(years),
               "--seeds", str(seeds), "--scenarios", names, "--out", str(folder), "--share", f"{k}/{count}"]
    return subprocess.Popen(command)


def run_scenarios(enterprises: str, names: str, out: str, accounts: Any) -> int:
    """``carbon-market scenarios`` and ``demo``: simulate the named scenarios (comma-separated; default all) with
    ``enterprises`` enterprises, print the comparison and write the report."""
    from carbon_market.sim import report, scenarios

    try:
        count = int(enterprises or 50)
    except ValueError:
        raise BadInput(f"the number of enterprises must be a whole number, not {enterprises!r}") from None
    if not 2 <= count <= 5_000:
        raise BadInput(f"the number of enterprises must be between 2 and 5,000, not {count}")
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else list(scenarios.SCENARIOS)
    unknown = [n for n in chosen if n not in scenarios.SCENARIOS]
    if unknown:
        raise BadInput(f"unknown scenario {unknown[0]!r}; scenarios: {', '.join(scenarios.SCENARIOS)}")
    with quiet():
        results = scenarios.compare(accounts, chosen, enterprises=count, progress=show)
    say(f"{count} enterprises, {len(results)} scenarios, each a whole compliance year on a fresh deployment")
    for line in report.text(results):
        show(line)
    main = results[0]
    say(f"{main.name}: the market against the theory")
    show(f"  equilibrium price {main.theory.price:.2f} tCNY/t; call auction "
         f"{'-' if main.call_price is None else f'{main.call_price:.2f}'}; volume-weighted {main.vwap:.2f}; "
         f"{main.volume * 100:,} t traded in {len(main.trades)} trades")
    show(f"  abatement cost {main.realised_cost / 1e6:.2f} million tCNY; "
         f"least cost {main.theory.least_cost / 1e6:.2f}; "
         f"without trade {main.theory.no_trade_cost / 1e6:.2f}: allocative efficiency {main.efficiency:.2%}")
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(main.outcomes.items()))
    show(f"  compliance rate {main.compliance_rate:.1%} ({outcomes}); "
         f"credit points after settlement: {', '.join(f'{v} with {k}' for k, v in main.credit_distribution().items())}")
    written = report.write(results, Path(out) if out else SIMULATION_OUT)
    say(f"report: {written[0]} (plots and results.csv beside it)")
    return 0



#: the surveillance policy unless one is given
POLICY = Path("policies/surveillance.yaml")


def _policy(path: str) -> Any:
    from carbon_market.surveillance import policy

    return policy.load(Path(path) if path else POLICY)


def _regulator_account() -> Any:
    """How the suggested responses name the regulator: the development chain's account 1, else a key."""
    from brownie._config import CONFIG

    return {"node": 1} if CONFIG.network_type == "development" else {"key": "REGULATOR_PRIVATE_KEY"}


def run_surveil(from_block: int, to_block: int | None, policy: str, out: str, accounts: Any,
                suite: Suite | None = None, names: dict[str, str] | None = None) -> int:
    """``carbon-market surveil``: judge a block range and write the reports (``names``: addresses shown by name)."""
    from brownie import chain, network

    from carbon_market.surveillance import monitor

    rules = _policy(policy)
    suite = suite or connected_suite(accounts)
    start, end = monitor.check_range(from_block, to_block)
    result = monitor.surveil(suite, rules, start, end)
    folder = Path(out or f"surveillance/{network.show_active()}-{chain.id}")
    known = {address.lower(): name for address, name in (names or {}).items()}
    written = monitor.write(result, folder, regulator=_regulator_account(), names=known,
                            title=f"Surveillance of {network.show_active()}, blocks {start} to {end}")
    counts = ", ".join(f"{rule} {sum(a.rule == rule for a in result.alerts)}" for rule in rules.rules)
    print(f"surveilled blocks {start} to {end} of {network.show_active()}: {result.tape.events:,} events, "
          f"{len(result.alerts)} alerts ({counts})")
    for alert in result.alerts:
        summary = alert.summary
        for address, name in known.items():
            summary = summary.replace(address, name)
        print(f"  {alert.id:28} {alert.severity:8} {summary}")
    print(f"  reports: {', '.join(str(p) for p in written)}")
    return 0


def run_watch(args: Any, accounts: Any) -> int:
    """``carbon-market watch``: follow new blocks, print each alert once, append it to the alerts file."""
    from brownie import network

    from carbon_market.surveillance import monitor

    rules = _policy(args.policy)
    suite = connected_suite(accounts)
    name = network.show_active()
    checkpoint = Path(args.checkpoint or f"surveillance/{name}-watch.json")
    out = Path(args.out or f"surveillance/{name}-alerts.jsonl")
    for path in (checkpoint, out):
        path.parent.mkdir(parents=True, exist_ok=True)
    if args.confirmations < 0:
        raise BadInput("--confirmations must be 0 or more")

    def say(alert: Any, head: int) -> None:
        print(f"block {head}: {alert.id} {alert.severity} {alert.summary}", flush=True)

    print(f"watching {name} from block {args.from_block}, {args.confirmations} confirmation(s); alerts to {out}",
          flush=True)
    monitor.watch(suite, rules, checkpoint=checkpoint, out=out, confirmations=args.confirmations,
                  start=args.from_block, poll=args.poll, until_block=args.until_block, say=say)
    return 0
