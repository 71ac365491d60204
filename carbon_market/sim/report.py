"""The planner's report: a results table (CSV and JSON), plots (price path against the equilibrium, supply and
demand with the clearing point, abatement by sector and by region, efficiency per scenario) and one HTML page
that shows them, plus a short text summary for the terminal."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from carbon_market.sim import chain as simchain
from carbon_market.sim.scenarios import Result

PLOTS = ("price_path", "supply_demand", "abatement_by_sector", "abatement_by_region", "efficiency")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> None:
    """Lay the figure out, write it as a PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def price_path(result: Result, path: Path) -> None:
    """Every trade's price in order, the equilibrium price and each day's limits."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    prices = [simchain.per_tonne(t.tick) for t in result.trades]
    days = [t.day for t in result.trades]
    colours = ["tab:orange" if t.kind == "call" else "tab:blue" for t in result.trades]
    ax.scatter(range(len(prices)), prices, s=[4 + t.lots * 2 for t in result.trades], c=colours, alpha=0.7,
               label="trades (orange: call auction)")
    ax.axhline(result.theory.price, color="tab:green", linestyle="--", label=f"equilibrium {result.theory.price:.2f}")
    for day, low, high in result.bands:
        span = [i for i, d in enumerate(days) if d == day]
        if span:
            ax.hlines([simchain.per_tonne(low), simchain.per_tonne(high)], span[0], span[-1], colors="grey",
                      linestyles=":", linewidth=1)
    ax.set_xlabel("trade number (days run left to right; dotted: each day's price limits)")
    ax.set_ylabel("tCNY per tonne")
    ax.set_title(f"Price path: {result.name}")
    ax.legend(loc="best", fontsize=8)
    _save(plt, fig, path)


def supply_demand(result: Result, path: Path) -> None:
    """The market's demand (enterprises short of allowances buying what is cheaper than abating) and supply
    (enterprises abating beyond their need to sell), from the cost curves; the equilibrium and the call price."""
    plt = _pyplot()
    pop, theory = result.population, result.theory
    top = max(theory.price * 2, 10.0)
    grid = [top * i / 200 for i in range(1, 201)]
    demand = [sum(max(pop.need(e) - e.abatement_at(p), 0) for e in pop.enterprises) / 1e3 for p in grid]
    supply = [sum(max(e.abatement_at(p) - pop.need(e), 0) for e in pop.enterprises) / 1e3 for p in grid]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(demand, grid, label="demand (buy instead of abating)")
    ax.plot(supply, grid, label="supply (abate more and sell)")
    volume = sum(max(pop.need(e) - e.abatement_at(theory.price), 0) for e in pop.enterprises) / 1e3
    ax.plot([volume], [theory.price], "o", color="tab:green", label=f"equilibrium {theory.price:.2f}")
    if result.call_price is not None:
        ax.axhline(result.call_price, color="tab:orange", linestyle=":", label=f"call auction {result.call_price:.2f}")
    ax.set_xlabel("thousand tonnes")
    ax.set_ylabel("tCNY per tonne")
    ax.set_title(f"Supply and demand: {result.name}")
    ax.legend(fontsize=8)
    _save(plt, fig, path)


def abatement(result: Result, what: str, path: Path) -> None:
    plt = _pyplot()
    groups = result.by(what)
    names = sorted(groups)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [groups[n][0] / 1e3 for n in names], width=0.4, label="on the chain")
    ax.bar([x + 0.2 for x in xs], [groups[n][1] / 1e3 for n in names], width=0.4, label="least-cost")
    ax.set_xticks(list(xs), names, rotation=20)
    ax.set_ylabel("thousand tonnes abated")
    ax.set_title(f"Abatement by {what}: {result.name}")
    ax.legend(fontsize=8)
    _save(plt, fig, path)


def efficiency_chart(results: list[Result], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    names = [r.name for r in results]
    ax.barh(names, [r.efficiency * 100 for r in results], color="tab:green")
    for i, r in enumerate(results):
        ax.text(r.efficiency * 100, i, f" {r.efficiency:.1%}", va="center", fontsize=8)
    ax.set_xlim(min(80.0, min(r.efficiency * 100 for r in results) - 5), 102)
    ax.set_xlabel("allocative efficiency: gains from trade realised / the most there are (%)")
    ax.invert_yaxis()
    _save(plt, fig, path)


def write(results: list[Result], out: Path) -> list[Path]:
    """The results table, the plots (of the first scenario, and efficiency across all) and the HTML page."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [r.row() for r in results]
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    with (out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    main = results[0]
    price_path(main, out / "price_path.png")
    supply_demand(main, out / "supply_demand.png")
    abatement(main, "sector", out / "abatement_by_sector.png")
    abatement(main, "region", out / "abatement_by_region.png")
    efficiency_chart(results, out / "efficiency.png")
    (out / "report.html").write_text(_html(results, rows))
    return [out / "report.html", out / "results.csv", out / "results.json", *(out / f"{p}.png" for p in PLOTS)]


def _html(results: list[Result], rows: list[dict]) -> str:
    main = results[0]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    tiers = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in main.credit_distribution().items())
    images = "".join(f"<figure><img src='{p}.png' alt='{p}'><figcaption>{p.replace('_', ' ')}</figcaption></figure>"
                     for p in PLOTS)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Carbon market simulation</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:.25em .5em;font-size:85%}}th{{background:#eef}}figure{{display:inline-block;
margin:.5em}}img{{max-width:560px}}</style></head><body>
<h1>Carbon market simulation</h1>
<p>{main.enterprises} enterprises in four sectors and six regions, each with its own emissions and marginal abatement
cost curve, trade allowances on the real contracts (a call auction and six days of continuous trading by
budget-constrained zero-intelligence traders), abate what they did not buy, report, are verified and trued up,
surrender and are settled. Each scenario runs on a fresh deployment and is set beside the competitive equilibrium
computed from the same cost curves.</p>
<h2>{html.escape(main.name)}</h2>
<p>Equilibrium price {main.theory.price:.2f} tCNY/t; call auction {_price(main.call_price)}; volume-weighted price
{main.vwap:.2f}; last {_price(main.last_price)}. Abatement cost {main.realised_cost / 1e6:.2f} million tCNY against
{main.theory.least_cost / 1e6:.2f} at least cost and {main.theory.no_trade_cost / 1e6:.2f} without trade:
allocative efficiency {main.efficiency:.2%}. Compliance rate {main.compliance_rate:.1%}.</p>
<table><tr><th>credit points after settlement</th><th>enterprises</th></tr>{tiers}</table>
{images}
<h2>Scenarios</h2><table><tr>{head}</tr>{body}</table>
</body></html>
"""


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def text(results: list[Result]) -> list[str]:
    """The terminal summary: one line per scenario."""
    lines = [f"{'scenario':30} {'p*':>6} {'call':>6} {'vwap':>6} {'volume t':>9} {'cost Mt':>8} {'least':>7} "
             f"{'effic.':>7} {'comply':>6} {'tx':>6} {'s':>5}"]
    for r in results:
        lines.append(f"{r.name:30} {r.theory.price:6.2f} {_price(r.call_price):>6} {r.vwap:6.2f} "
                     f"{r.volume * simchain.LOT:9,} {r.realised_cost / 1e6:8.2f} {r.theory.least_cost / 1e6:7.2f} "
                     f"{r.efficiency:7.2%} {r.compliance_rate:6.1%} {r.transactions:6,} {r.seconds:5.1f}")
    return lines
