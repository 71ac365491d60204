"""The planner's report of a study: one HTML file with interactive charts (plotly, its script inlined: nothing is
fetched when the page is viewed), the tidy data beside it (CSV), and a short text summary for the terminal.

Charts: fan charts (median and 5-95% band across seeds) of price, emissions against the cap, the bank and compliance
by year, each with the least-cost path where it has one; the regulator's instruments (auction price, supply reserve,
containment sales) for the scenarios that use them; the scenarios compared (cost against the least cost,
compliance, price); compliance costs by sector; a tile map of the provinces; and the credit token's effect.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from carbon_market.sim import planning as pl
from carbon_market.sim.study import bands, frames, paired_effect

#: the charts of the report, by element id, in order
CHARTS = ("price", "emissions", "bank", "compliance", "instruments", "scenarios", "sectors", "provinces",
          "credit")
#: the provinces' usual two-letter abbreviations, for the tiles
ABBREVIATIONS = {
    110000: "BJ", 120000: "TJ", 130000: "HE", 140000: "SX", 150000: "NM", 210000: "LN", 220000: "JL", 230000: "HL",
    310000: "SH", 320000: "JS", 330000: "ZJ", 340000: "AH", 350000: "FJ", 360000: "JX", 370000: "SD", 410000: "HA",
    420000: "HB", 430000: "HN", 440000: "GD", 450000: "GX", 460000: "HI", 500000: "CQ", 510000: "SC", 520000: "GZ",
    530000: "YN", 540000: "XZ", 610000: "SN", 620000: "GS", 630000: "QH", 640000: "NX", 650000: "XJ",
}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")
#: collects the page's errors (uncaught ones and console.error) where a headless browser can read them
ERROR_PROBE = """<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(
String(e.message||e))});(function(){var ce=console.error;console.error=function(){window.__errors.push(
Array.prototype.join.call(arguments,' '));ce.apply(console,arguments)}})();</script>"""
RENDER_CHECK = """<script>window.addEventListener('load',function(){var ids=%s,drawn=0;ids.forEach(function(id){
var el=document.getElementById(id);if(el&&el.querySelector('svg.main-svg'))drawn++});document.body.setAttribute(
'data-charts-rendered',String(drawn));document.body.setAttribute('data-errors',JSON.stringify(window.__errors));});
</script>"""


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _band_and_median(go: Any, rows: Any, scenario: str, colour: str, scale: float, unit: str, *,
                     legend: bool = True) -> list[Any]:
    """A scenario's 5-95% band (shaded, out of the legend) and its median line, from its :func:`bands` rows."""
    x = list(rows["year"])
    return [go.Scatter(x=x + x[::-1], y=list(rows["p95"] * scale) + list(rows["p5"] * scale)[::-1], fill="toself",
                       fillcolor=_rgba(colour, 0.15), line={"width": 0}, hoverinfo="skip", legendgroup=scenario,
                       showlegend=False, name=f"{scenario} 5-95%"),
            go.Scatter(x=x, y=list(rows["median"] * scale), mode="lines+markers", name=scenario,
                       legendgroup=scenario, line={"color": colour}, showlegend=legend,
                       hovertemplate=f"{html.escape(scenario)}<br>%{{x}}: %{{y:,.2f}} {unit}<extra></extra>")]

def _fan(go: Any, years: Any, column: str, title: str, unit: str, *, least: str | None = None,
         scale: float = 1.0) -> Any:
    fig = go.Figure()
    fan = bands(years, column)
    for k, scenario in enumerate(dict.fromkeys(years["scenario"])):
        colour = COLOURS[k % len(COLOURS)]
        fig.add_traces(_band_and_median(go, fan[fan["scenario"] == scenario], scenario, colour, scale, unit))
        if least is not None:
            lc = bands(years[years["scenario"] == scenario], least)
            fig.add_trace(go.Scatter(x=list(lc["year"]), y=list(lc["median"] * scale), mode="lines",
                                     name=f"{scenario}: least cost", legendgroup=scenario,
                                     line={"color": colour, "dash": "dot"}, visible="legendonly" if k else True))
    fig.update_layout(title=title, xaxis={"title": "compliance year", "dtick": 1, "tickformat": "d"},
                      yaxis_title=unit, hovermode="x unified",
                      margin={"t": 50, "l": 60, "r": 20, "b": 40}, legend={"font": {"size": 10}})
    return fig


#: the instruments' panels: the column, its title and its scale
INSTRUMENTS = (("auction_price", "primary auction: clearing price (tCNY/t)", 1.0),
               ("reserve_held", "supply reserve: allowances held (thousand t)", 1e-3),
               ("containment_sold", "containment reserve: sold (thousand t)", 1e-3))


def _instruments(go: Any, make_subplots: Any, years: Any) -> Any | None:
    """The regulator's instruments by year, each panel for the scenarios that use it (median and 5-95% band);
    None when no scenario uses any."""
    names = list(dict.fromkeys(years["scenario"]))
    used = [[n for n in names if (years[years["scenario"] == n][column].fillna(0) != 0).any()]
            for column, _, _ in INSTRUMENTS]
    if not any(used):
        return None
    fig = make_subplots(rows=1, cols=len(INSTRUMENTS), subplot_titles=[title for _, title, _ in INSTRUMENTS])
    shown: set[str] = set()  # a scenario in the legend once, however many panels it is in
    for col, ((column, _, scale), scenarios) in enumerate(zip(INSTRUMENTS, used), 1):
        fan = bands(years[years["scenario"].isin(scenarios)], column)
        for name in scenarios:
            colour = COLOURS[names.index(name) % len(COLOURS)]
            for trace in _band_and_median(go, fan[fan["scenario"] == name], name, colour, scale, "",
                                          legend=name not in shown):
                fig.add_trace(trace, row=1, col=col)
            shown.add(name)
    fig.update_xaxes(dtick=1, tickformat="d")
    fig.update_layout(title="The regulator's instruments by year, for the scenarios that use them (median, 5-95% "
                      "band)", margin={"t": 80, "l": 60, "r": 20, "b": 40}, legend={"font": {"size": 10}})
    return fig

def _scenarios(go: Any, make_subplots: Any, runs: Any) -> Any:
    names = list(dict.fromkeys(runs["scenario"]))
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=(
        "abatement cost, present value (million tCNY)", "enterprises compliant on time", "mean price (tCNY/t)"))
    for col, (column, least, scale) in enumerate((("pv_cost", "lc_pv_cost", 1e-6), ("compliance_rate", None, 100),
                                                  ("mean_price", "lc_mean_price", 1.0)), 1):
        med, low, high = [], [], []
        for name in names:
            values = runs[runs["scenario"] == name][column] * scale
            med.append(float(values.quantile(0.5)))
            low.append(med[-1] - float(values.quantile(0.05)))
            high.append(float(values.quantile(0.95)) - med[-1])
        fig.add_trace(go.Bar(y=names, x=med, orientation="h", name=column, marker={"color": COLOURS[col - 1]},
                             error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
                             showlegend=False, hovertemplate="%{y}: %{x:,.2f}<extra></extra>"), row=1, col=col)
        if least is not None:
            fig.add_trace(go.Scatter(y=names, x=[float((runs[runs["scenario"] == n][least] * scale).median())
                                                 for n in names], mode="markers", name="least-cost path",
                                     marker={"symbol": "line-ns-open", "size": 18, "color": "black"},
                                     showlegend=col == 1), row=1, col=col)
    fig.update_layout(title="Scenarios compared: median and 5-95% band across seeds (black: the least-cost path)",
                      height=120 + 40 * len(names), margin={"l": 200, "t": 80, "r": 20, "b": 40})
    fig.update_yaxes(autorange="reversed")
    return fig


def _sectors(go: Any, groups: Any) -> Any:
    sectors = groups[groups["kind"] == "sector"]
    per_run = sectors.assign(cost=sectors["abatement_cost"] + sectors["spent"] + sectors["fines"]) \
        .groupby(["scenario", "seed", "name"], sort=False)[["cost", "emissions"]].sum().reset_index()
    per_run["per_tonne"] = per_run["cost"] / per_run["emissions"]
    fig = go.Figure()
    for k, scenario in enumerate(dict.fromkeys(per_run["scenario"])):
        rows = per_run[per_run["scenario"] == scenario].groupby("name", sort=True)["per_tonne"]
        med = rows.quantile(0.5)
        fig.add_trace(go.Bar(x=list(med.index), y=list(med), name=scenario, marker={"color": COLOURS[k % 9]},
                             error_y={"type": "data", "symmetric": False, "array": list(rows.quantile(0.95) - med),
                                      "arrayminus": list(med - rows.quantile(0.05))}))
    fig.update_layout(barmode="group", title="Compliance cost by sector: abatement, net purchases and fines per "
                      "tonne emitted over the horizon (median, 5-95% band)", yaxis_title="tCNY per tonne emitted",
                      margin={"t": 60, "l": 60, "r": 20, "b": 40}, legend={"font": {"size": 10}})
    return fig


def _province_tiles(go: Any, groups: Any, scenario: str, visible: bool) -> Any:
    """One scenario's tiles: colour the compliance cost per tonne emitted (median across seeds)."""
    rows = groups[(groups["kind"] == "province") & (groups["scenario"] == scenario)]
    per = rows.assign(cost=rows["abatement_cost"] + rows["spent"] + rows["fines"]) \
        .groupby(["seed", "code"])[["cost", "emissions", "abatement", "enterprises", "compliant"]].sum() \
        .groupby("code").median()
    years = max(rows["year"].nunique(), 1)
    xs: list[int] = []
    ys: list[int] = []
    colour: list[float | None] = []
    text: list[str] = []
    hover: list[str] = []
    for code, (name, row, col, _) in pl.PROVINCES.items():
        xs.append(col)
        ys.append(-row)
        text.append(ABBREVIATIONS[code])
        if code in per.index:
            p = per.loc[code]
            per_tonne = float(p["cost"] / p["emissions"]) if p["emissions"] else 0.0
            colour.append(per_tonne)
            hover.append(f"{name}<br>{int(p['enterprises'] / years)} enterprises<br>abated {p['abatement']:,.0f} t"
                         f"<br>cost {p['cost'] / 1e6:,.2f} million tCNY ({per_tonne:.2f} per t emitted)"
                         f"<br>compliant on time {p['compliant'] / p['enterprises']:.0%}")
        else:
            colour.append(None)
            hover.append(f"{name}<br>no enterprise in this simulation")
    return go.Scatter(
        x=xs, y=ys, mode="markers+text", text=text, textfont={"size": 10}, hovertext=hover, hoverinfo="text",
        name=scenario, visible=visible, showlegend=False,
        marker={"symbol": "square", "size": 46, "color": [c if c is not None else 0 for c in colour],
                "colorscale": "YlOrRd", "showscale": True, "colorbar": {"title": "tCNY/t"},
                "line": {"color": ["#999" if c is None else "#333" for c in colour], "width": 1},
                "opacity": [0.25 if c is None else 1.0 for c in colour]})


def _provinces(go: Any, groups: Any, scenarios: list[str]) -> Any:
    """A tile map of the provinces, one scenario shown at a time (a menu switches)."""
    fig = go.Figure([_province_tiles(go, groups, s, k == 0) for k, s in enumerate(scenarios)])
    buttons = [{"label": s, "method": "update", "args": [{"visible": [j == k for j in range(len(scenarios))]}]}
               for k, s in enumerate(scenarios)]
    fig.update_layout(title="Provinces: compliance cost per tonne emitted, median across seeds (a tile per province; "
                      "pale: no enterprise simulated; the menu picks the scenario)",
                      updatemenus=[{"buttons": buttons, "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"}],
                      xaxis={"visible": False, "range": [0, 9]}, yaxis={"visible": False, "range": [-7.7, 0.7]},
                      height=560, margin={"t": 90, "l": 20, "r": 20, "b": 20}, plot_bgcolor="white")
    return fig


def _credit(go: Any, runs: Any, off: str) -> Any:
    fig = go.Figure()
    measures = (("compliance_rate", "compliant on time"), ("early_share", "surrendered early"),
                ("late_share", "surrendered late"), ("short_share", "short"),
                ("cost_gap", "abatement cost above least cost"))
    labels, med, low, high = [], [], [], []
    for column, label in measures:
        effect = paired_effect(runs, column, "baseline", off)
        labels.append(label)
        med.append(effect["median"])
        low.append(effect["median"] - effect["p5"])
        high.append(effect["p95"] - effect["median"])
    fig.add_trace(go.Bar(x=med, y=labels, orientation="h", marker={"color": COLOURS[2]},
                         error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
                         hovertemplate="%{y}: %{x:+.3f}<extra></extra>"))
    fig.update_layout(title="The credit token's effect: with incentives minus without, seed by seed (shares of "
                      "enterprise-years; median, 5-95% band)", height=340, margin={"l": 220, "t": 60, "r": 20, "b": 40},
                      xaxis={"tickformat": "+.1%"})
    return fig


def figures(data: dict[str, Any]) -> dict[str, Any]:
    """The report's charts, by :data:`CHARTS` id."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    years, groups, runs = data["years"], data["groups"], data["runs"]
    out = {
        "price": _fan(go, years, "price", "Allowance price by year (dotted: the least-cost path)", "tCNY/t",
                      least="lc_price"),
        "emissions": _fan(go, years, "emissions", "Verified emissions by year", "million t", scale=1e-6),
        "bank": _fan(go, years, "bank", "Allowances banked after each year's settlement (dotted: least-cost bank)",
                     "million t", least="lc_bank", scale=1e-6),
        "compliance": _fan(go, years, "compliance_rate", "Enterprises that surrendered in full by the deadline",
                           "share", scale=1.0),
        "scenarios": _scenarios(go, make_subplots, runs),
        "sectors": _sectors(go, groups),
        "provinces": _provinces(go, groups, list(dict.fromkeys(runs["scenario"]))),
    }
    cap = bands(years, "cap")
    first = cap[cap["scenario"] == cap["scenario"].iloc[0]]
    out["emissions"].add_trace(go.Scatter(x=list(first["year"]), y=list(first["median"] * 1e-6), name="cap (first "
                                          "scenario)", line={"color": "black", "dash": "dash"}))
    instruments = _instruments(go, make_subplots, years)
    if instruments is not None:
        out["instruments"] = instruments
    off = credit_scenario(runs)
    if off is not None:
        out["credit"] = _credit(go, runs, off)
    return {name: out[name] for name in CHARTS if name in out}


def write(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """``report.html`` and the tidy data (``years.csv``, ``groups.csv``, ``runs.csv``) in ``out``."""
    data = frames(records)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.html"]
    for name in ("years", "groups", "runs"):
        data[name].to_csv(out / f"{name}.csv", index=False)
        paths.append(out / f"{name}.csv")
    _write_whole(out / "report.html", page(data, records))
    return paths


def _write_whole(path: Path, text: str) -> None:
    part = path.with_suffix(".part")
    part.write_text(text)
    part.replace(path)


def page(data: dict[str, Any], records: Sequence[dict[str, Any]]) -> str:
    import plotly.io as pio

    charts = figures(data)
    divs = []
    for k, (name, fig) in enumerate(charts.items()):
        divs.append(pio.to_html(fig, full_html=False, include_plotlyjs=(k == 0), div_id=name,
                                config={"displaylogo": False, "responsive": True}))
    runs = data["runs"]
    first = records[0]
    table = summary_table(runs)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Carbon market: planning study</title>
{ERROR_PROBE}<style>body{{font-family:sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:85%}}td,th{{border:1px solid #bbb;padding:.25em .5em;
text-align:right}}th{{background:#eef}}td:first-child{{text-align:left}}.chart{{margin:1.5em 0}}</style></head><body>
<h1>Planning study: {len(set(runs['scenario']))} scenarios x {runs['seed'].nunique()} seeds</h1>
<p>{first['enterprises']} enterprises in four sectors across China's provinces, over {len(first['years'])} compliance
years from {first['years'][0]['year']}, on the real contracts: each year the regulator opens it and allocates, the
enterprises trade (and bid in primary auctions where a scenario sells allowances), decide what to abate, bank and
surrender and when, are verified, trued up and settled. Each seed draws another future (output shocks, beliefs,
frictions); the same seeds run under every scenario, so differences between scenarios are compared seed by seed.
Medians with 5-95% bands; the dotted lines are the intertemporal least-cost path (prices rising at the discount rate
while the bank is positive).</p>
{table}
{''.join(f'<div class="chart">{d}</div>' for d in divs)}
{RENDER_CHECK % json.dumps(list(charts))}
</body></html>
"""


def summary_table(runs: Any) -> str:
    columns = (("pv_cost", "abatement cost PV (M tCNY)", 1e-6), ("lc_pv_cost", "least-cost PV (M tCNY)", 1e-6),
               ("cost_gap", "above least cost", 100), ("compliance_rate", "compliant on time (%)", 100),
               ("mean_price", "mean price", 1), ("fines", "fines (M tCNY)", 1e-6))
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in columns)
    rows = []
    for name in dict.fromkeys(runs["scenario"]):
        r = runs[runs["scenario"] == name]
        cells = []
        for column, _, scale in columns:
            v = r[column] * scale
            cells.append(f"<td>{v.median():,.2f} <small>[{v.quantile(0.05):,.2f}, {v.quantile(0.95):,.2f}]</small>"
                         "</td>")
        rows.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>scenario (median [5%, 95%])</th>{head}</tr>{''.join(rows)}</table>"


def credit_scenario(runs: Any) -> str | None:
    """The scenario that switches the credit incentives off, if the study has it and the baseline."""
    names = list(dict.fromkeys(runs["scenario"]))
    off = [s for s in names if "credit" in s and "off" in s]
    return off[0] if off and "baseline" in names else None


def headlines(runs: Any) -> list[str]:
    """What a planner asks first: how far the market's cost is from the least cost, and what credit changes."""
    lines = []
    for name in dict.fromkeys(runs["scenario"]):
        gap = runs[runs["scenario"] == name]["cost_gap"]
        lines.append(f"{name}: abatement cost {gap.median():+.1%} against the least-cost path "
                     f"(5-95%: {gap.quantile(0.05):+.1%} to {gap.quantile(0.95):+.1%})")
    off = credit_scenario(runs)
    if off is not None:
        for column, what in (("compliance_rate", "on-time compliance"), ("early_share", "early surrender"),
                             ("late_share", "late surrender")):
            e = paired_effect(runs, column, "baseline", off)
            lines.append(f"credit token: {what} {e['median'] * 100:+.1f} points with the incentives than without "
                         f"(5-95%: {e['p5'] * 100:+.1f} to {e['p95'] * 100:+.1f}, {e['seeds']} seeds paired)")
    return lines


def text(runs: Any) -> list[str]:
    """The terminal summary: a line per scenario, medians across seeds."""
    lines = [f"{'scenario':30} {'seeds':>5} {'price':>7} {'least':>7} {'cost PV M':>10} {'least PV':>9} "
             f"{'gap':>6} {'on time':>8} {'late':>5} {'short':>5}"]
    for name in dict.fromkeys(runs["scenario"]):
        r = runs[runs["scenario"] == name].median(numeric_only=True)
        lines.append(f"{name[:30]:30} {int((runs['scenario'] == name).sum()):5} {r['mean_price']:7.2f} "
                     f"{r['lc_mean_price']:7.2f} {r['pv_cost'] / 1e6:10.2f} {r['lc_pv_cost'] / 1e6:9.2f} "
                     f"{r['cost_gap']:6.1%} {r['compliance_rate']:8.1%} {r['late']:5.0f} {r['short']:5.0f}")
    return lines
