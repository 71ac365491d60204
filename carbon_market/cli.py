"""``carbon-market``, the project's command line: ``carbon-market <command> --help``.

This module imports neither brownie nor anything that does: brownie reads its data folder from ``$HOME`` when it is
first imported, and a command gives it the project's own (``.toolchain/brownie-home``) before that, so that
``--help`` works anywhere and nothing is read from or left in the user's home folder. The project is loaded by its
path (never imported as a module named after its folder, as ``brownie run`` does), so the clone's path may hold
dots and spaces."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

from carbon_market import settings
from carbon_market.failures import BAD_INPUT, CarbonMarketError
from carbon_market.suite import PARTS

#: the exit codes of an interrupted command and of a defect of the harness itself
INTERRUPTED, INTERNAL = 130, 3
#: where the simulation writes its report unless told (``carbon_market.commands.SIMULATION_OUT``)
SIMULATION_OUT = "out/simulation"
#: where a planning study keeps its runs and report unless told (``carbon_market.commands.PLANNING_OUT``)
PLANNING_OUT = "out/planning"
#: the chain a planning study runs on unless told (``carbon_market.commands.WORKER_NETWORKS``: its first worker's)
PLANNING_NETWORK = "planning"


#: the networks a command runs on unless told (``--network``)
DEFAULT_NETWORK = "development"


class ProjectError(CarbonMarketError):
    """The brownie project cannot be found or loaded, or the network cannot be reached."""


def project_root(start: Path | None = None) -> Path:
    """The project a command works in: the current folder (or a parent) that holds ``brownie-config.yaml``, else
    the clone this package was installed from."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "brownie-config.yaml").exists() and (folder / "contracts").is_dir():
            return folder
    installed = Path(__file__).resolve().parent.parent
    if (installed / "brownie-config.yaml").exists():
        return installed
    raise ProjectError(f"no brownie project in {here} or its parents (brownie-config.yaml and contracts/)")


def connect(network_name: str, root: Path) -> Any:
    """Load the project at ``root`` and connect brownie to ``network_name``; returns brownie's accounts.

    brownie keeps its data folder under ``$HOME/.brownie``: as under ``make``, it is the project's own
    (``.toolchain/brownie-home``), so nothing is read from or left in the user's home folder. The project is loaded
    by its path, never imported as a module named after it, so the folder's name may hold dots and spaces."""
    import warnings

    home = root / ".toolchain" / "brownie-home"
    if not (home / ".brownie" / "network-config.yaml").exists():
        raise ProjectError(f"{home} is not set up: run `make setup` in {root}")
    os.environ["HOME"] = str(home)
    # what make exports: the node from the lockfile's packages, the compiler shim
    os.environ["PATH"] = os.pathsep.join([str(root / "node_modules" / ".bin"), os.environ.get("PATH", "")])
    os.environ.setdefault("SOLCX_BINARY_PATH", str(root / ".toolchain" / "solcx"))
    os.chdir(root)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        from brownie import accounts, network, project
    except Exception as exc:  # brownie reads its configuration on import: one line, not its traceback
        raise ProjectError(f"brownie cannot start: {_first_line(exc)}") from None
    from brownie.exceptions import ProjectNotFound

    from carbon_market import bulk, errors, receipts
    from carbon_market.console import quiet

    receipts.install()
    errors.install()

    try:
        if not project.get_loaded_projects():
            with quiet():
                project.load(root, name="CarbonMarketProject")
        if not network.is_connected():
            network.connect(network_name)
            _resilient_on_live_networks()
        bulk.go_direct()
    except (ProjectNotFound, ConnectionError) as exc:
        raise ProjectError(str(exc)) from None
    except FileNotFoundError as exc:
        raise ProjectError(f"{exc.filename} is not installed: run `make setup` in {root}") from None
    except KeyError:
        raise ProjectError(f"unknown network {network_name}: see network-config.yaml") from None
    except ValueError as exc:  # a missing RPC URL: brownie names the variable in its message
        missing = re.search(r"\$(\w+)", str(exc))
        if missing:
            raise ProjectError(f"{network_name} needs {missing.group(1)}: set it to the node's RPC URL") from None
        raise ProjectError(_first_line(exc)) from None
    except Exception as exc:  # a malformed configuration, a node that does not answer
        raise ProjectError(f"cannot connect to {network_name}: {_first_line(exc)}") from None
    return accounts


def _resilient_on_live_networks() -> None:
    """On a live network brownie's web3 (deploy, trace, audit, surveillance) goes through the provider that tries
    again and sends a transaction at most once (:mod:`carbon_market.ops.transport`), and a network whose entry in
    network-config.yaml fixes a ``gas_price`` (a consortium chain without fees) is priced at it, legacy
    transactions, by brownie and by the operations runner alike (brownie 1.22 reads gas settings only per kind of
    network, development or live)."""
    from brownie import web3
    from brownie._config import CONFIG

    from carbon_market.ops.transport import Provider

    if CONFIG.network_type == "live":
        web3.provider = Provider(str(web3.provider.endpoint_uri))
        fixed = CONFIG.active_network.get("gas_price")
        if fixed is not None:
            CONFIG.active_network["settings"].update(gas_price=int(fixed), max_fee=None, priority_fee=None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _disconnect() -> None:
    from brownie import network

    if network.is_connected():
        with contextlib.suppress(Exception):
            network.disconnect()


def _parser() -> Any:
    import argparse

    parser = argparse.ArgumentParser(
        prog="carbon-market",
        description="The carbon-allowance market's harness: simulate, deploy, operate, trace, audit, measure.")
    commands = parser.add_subparsers(dest="command", metavar="command")

    def command(name: str, text: str, network: str = DEFAULT_NETWORK) -> Any:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--network", default=network,
                         help=f"the brownie network (network-config.yaml; default {network})")
        return sub

    command("demo", "the ten-year planning study at its default size (50 enterprises, every scenario, 20 seeds); "
                    "report in out/planning", network=PLANNING_NETWORK)
    sub = command("plan", "a planning study: scenarios x seeds, each many compliance years on the real contracts, set "
                          "beside the least-cost path; an HTML report and tidy data (a stopped study resumes)",
                  network=PLANNING_NETWORK)
    sub.add_argument("--enterprises", type=int, default=50, help="enterprises (default 50)")
    sub.add_argument("--years", type=int, default=10, help="compliance years from 2026 (default 10)")
    sub.add_argument("--seeds", type=int, default=20, help="seeds per scenario (default 20)")
    sub.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    sub.add_argument("--out", default="", help=f"the study's folder (default {PLANNING_OUT})")
    sub.add_argument("--workers", type=int, default=0,
                     help="processes, each on a development chain of its own (default: one per core, one "
                          "more up to 200 enterprises; at most 3)")
    sub.add_argument("--share", default="", help=argparse.SUPPRESS)  # a worker's part, k/n
    sub = command("scenarios", "one compliance year: simulate chosen scenarios beside the static equilibrium")
    sub.add_argument("--enterprises", type=int, default=50, help="enterprises per scenario (default 50)")
    sub.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    sub.add_argument("--out", default="", help=f"report folder (default {SIMULATION_OUT})")
    command("story", "the pilot year of operations/pilot-2026 (five named enterprises, a trading session) run by the "
                     "operations runner, then told from the chain's events and audited")
    sub = command("deploy", "deploy the suite and write deployments/<network>-<chain id>.json (reused if present)")
    sub.add_argument("--redeploy", action="store_true", help="deploy afresh even if a record exists")
    sub = command("upgrade", "replace the code of parts of the suite with this build's, keeping their state (a suite "
                             "handed to a timelock: the new code is deployed and the governed action printed for its "
                             "approvers)")
    sub.add_argument("parts", nargs="+", choices=PARTS, metavar="part", help=f"one of {', '.join(PARTS)}")
    sub = command("ops", "run an operations file (checked on a fork of the network first)")
    sub.add_argument("file", help="the operations file (YAML)")
    sub.add_argument("--dry-run", action="store_true", help="only check it on a fork; send nothing")
    sub.add_argument("--journal", default="", help="the journal file (default journals/<network>-<file>.json)")
    sub = command("trace", "the history of an order, a token id, an account, a report, a primary auction or the "
                           "reserves, from events alone")
    sub.add_argument("what", choices=("order", "unit", "account", "report", "auction", "reserve"))
    sub.add_argument("id", nargs="?", default="-",
                     help="order id | token id | address | year:address | auction id (nothing for the reserve)")
    sub.add_argument("--from-block", type=int, default=0, help="the first block searched (default 0)")
    sub = command("audit", "the audit report at a block: JSON, CSV and HTML")
    sub.add_argument("--block", default="latest", help="the block (default latest)")
    sub.add_argument("--out", default="", help="the report folder (default audits/<network>-<chain id>-<block>)")
    sub = command("surveil", "surveillance over a block range: alerts with their evidence as JSON lines, CSV, an "
                             "HTML report and a case file per alert")
    sub.add_argument("--from-block", type=int, default=0, help="the first block judged (default 0)")
    sub.add_argument("--to-block", type=int, default=None, help="the last block judged (default the latest)")
    sub.add_argument("--policy", default="", help="the surveillance policy (YAML; default policies/surveillance.yaml)")
    sub.add_argument("--out", default="", help="the report folder (default surveillance/<network>-<chain id>)")
    sub = command("watch", "follow new blocks and give each alert once, as it comes (a checkpoint resumes a watch)")
    sub.add_argument("--policy", default="", help="the surveillance policy (YAML; default policies/surveillance.yaml)")
    sub.add_argument("--confirmations", type=int, default=1, help="blocks behind the head judged (default 1)")
    sub.add_argument("--from-block", type=int, default=0, help="the first block judged (default 0)")
    sub.add_argument("--checkpoint", default="", help="the checkpoint (default surveillance/<network>-watch.json)")
    sub.add_argument("--out", default="", help="the alerts, appended (default surveillance/<network>-alerts.jsonl)")
    sub.add_argument("--poll", type=float, default=2.0, help="seconds between looks at the chain (default 2)")
    sub.add_argument("--until-block", type=int, default=None, help="stop once this block is judged (default never)")
    sub = command("bench", "measure gas and throughput into benchmarks/results.json, checked against targets.json")
    sub.add_argument("--planning", type=int, default=200,
                     help="enterprises of the ten-year planning run measured (default 200; 3000: the national scale)")
    return parser


def _run(args: Any, accounts: Any) -> int:
    from carbon_market import bench
    from carbon_market.commands import (
        run_audit,
        run_deploy,
        run_operations,
        run_plan,
        run_scenarios,
        run_story,
        run_surveil,
        run_trace,
        run_upgrade,
        run_watch,
    )

    if args.command == "demo":
        return run_plan(50, 10, 20, "", "", accounts)
    if args.command == "plan":
        share = tuple(int(x) for x in args.share.split("/")) if args.share else None
        return run_plan(args.enterprises, args.years, args.seeds, args.scenarios, args.out, accounts,
                        workers=args.workers, share=share)  # type: ignore[arg-type]
    if args.command == "scenarios":
        return run_scenarios(str(args.enterprises), args.scenarios, args.out, accounts)
    if args.command == "story":
        return run_story(accounts)
    if args.command == "deploy":
        return run_deploy(accounts, redeploy=args.redeploy or settings.current().redeploy)
    if args.command == "upgrade":
        return run_upgrade(args.parts, accounts)
    if args.command == "ops":
        return run_operations(args.file, args.dry_run, args.journal, accounts)
    if args.command == "trace":
        return run_trace(args.what, args.id, str(args.from_block), accounts)
    if args.command == "audit":
        return run_audit(args.block, args.out, accounts)
    if args.command == "surveil":
        return run_surveil(args.from_block, args.to_block, args.policy, args.out, accounts)
    if args.command == "watch":
        return run_watch(args, accounts)
    return bench.run(accounts, args.planning)


def main(argv: list[str] | None = None) -> int:
    """``carbon-market <command> [options]``: see ``--help``."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return BAD_INPUT
    # paths given on the command line are the caller's, from the folder it runs in
    for name in ("file", "journal", "out", "policy", "checkpoint"):
        if getattr(args, name, ""):
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    try:
        accounts = connect(args.network, project_root())
    except ProjectError as exc:
        print(f"carbon-market: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        return _run(args, accounts)
    except CarbonMarketError as exc:  # the project's own failures: one line, its exit code
        print(f"{args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:  # a defect of the harness: one line for the user, the traceback kept for a report
        report = _keep_traceback(args.command)
        print(f"{args.command}: unexpected {_first_line(exc)} (a defect of carbon-market; the traceback is in "
              f"{report})", file=sys.stderr)
        return INTERNAL
    finally:
        _disconnect()


def _keep_traceback(command: str) -> Path:
    """Write the exception being handled to a file of its own; its path."""
    import tempfile
    import traceback

    handle, name = tempfile.mkstemp(prefix=f"carbon-market-{command}-", suffix=".log")
    with os.fdopen(handle, "w") as f:
        traceback.print_exc(file=f)
    return Path(name)


if __name__ == "__main__":
    sys.exit(main())
