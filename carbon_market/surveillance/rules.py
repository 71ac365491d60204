"""The detectors. Each rule reads the :class:`~carbon_market.surveillance.tape.Tape` with its parameters from the
policy and returns alerts; activity is judged only inside the window ``[start, end]`` of blocks surveilled
(positions and obligations at its end). Pure: no chain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from carbon_market.market import Side, band, choose_price, session_close
from carbon_market.roles import Role
from carbon_market.surveillance.alerts import Alert, freeze, make
from carbon_market.surveillance.policy import Policy
from carbon_market.surveillance.tape import Order, Tape, Trade, day_of, is_allowance

DAY = 86_400


@dataclass(frozen=True)
class Window:
    start: int  # first block surveilled
    end: int  # last block surveilled

    def holds(self, block: int) -> bool:
        return self.start <= block <= self.end


Rule = Callable[[Tape, dict[str, Any], Window], list[Alert]]


def _trades(tape: Tape, window: Window, *kinds: str) -> list[Trade]:
    return [t for t in tape.trades if window.holds(t.block) and t.kind in kinds]


def wash(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """Trades between accounts of one beneficial owner (the same identity documents, or a group the regulator
    declared): fills and block trades between them, and a call round they executed on both sides of."""
    pairs: dict[tuple[str, str, int, str], list[Trade]] = defaultdict(list)
    for t in _trades(tape, window, "continuous", "block"):
        why = tape.same_owner(t.buyer, t.seller)
        if why:
            pairs[(min(t.buyer, t.seller), max(t.buyer, t.seller), t.instrument, why)].append(t)
    alerts = []
    for (a, b, instrument, why), trades in pairs.items():
        lots = sum(t.lots for t in trades)
        if lots >= p["min_lots"]:
            alerts.append(make("wash", p, f"{len(trades)} trades, {lots} lots between {a} and {b}, one beneficial "
                               f"owner by {why}", (a, b), instrument, [t.ref for t in trades], tape,
                               {"trades": len(trades), "lots": lots, "owner_by": why},
                               [freeze((a, b), f"wash trading: {len(trades)} trades between accounts of one owner")]))
    for (instrument, round_), orders in tape.calls.items():
        executed = [o for o in orders if o.filled and window.holds(o.ref.block)]
        buyers = [o for o in executed if o.side == Side.BUY]
        sellers = [o for o in executed if o.side == Side.SELL]
        seen: set[tuple[str, str]] = set()
        for bid in buyers:
            for ask in sellers:
                why = tape.same_owner(bid.owner, ask.owner)
                pair = (min(bid.owner, ask.owner), max(bid.owner, ask.owner))
                if why and pair not in seen:
                    seen.add(pair)
                    alerts.append(make("wash", p, f"call round {round_}: {bid.owner} bought and {ask.owner} sold, "
                                       f"one beneficial owner by {why}", pair, instrument, [bid.ref, ask.ref], tape,
                                       {"round": round_, "bought": bid.filled, "sold": ask.filled, "owner_by": why},
                                       [freeze(pair, f"wash trading in call round {round_}")]))
    return alerts


def circular(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """Cycles of trades that return units to where they started within the window of time: A sells to B, B to C,
    ..., and the last back to A (the buyers and sellers distinct accounts)."""
    trades = sorted((t for t in _trades(tape, window, "continuous", "block") if t.lots >= p["min_lots"]),
                    key=lambda t: (t.block, t.ref.log_index))
    by_seller: dict[tuple[str, int], list[Trade]] = defaultdict(list)
    for t in trades:
        by_seller[(t.seller, t.instrument)].append(t)
    alerts, found = [], set()
    for first in trades:
        for cycle in _cycles(first, by_seller, p["window"], p["max_length"]):
            accounts = tuple(t.seller for t in cycle)
            key = (frozenset(accounts), first.instrument)
            if key in found:
                continue
            found.add(key)
            alerts.append(make("circular", p, f"units went round {' -> '.join(accounts + (accounts[0],))} in "
                               f"{cycle[-1].time - cycle[0].time} s", accounts, first.instrument,
                               [t.ref for t in cycle], tape,
                               {"legs": len(cycle), "lots": [t.lots for t in cycle],
                                "seconds": cycle[-1].time - cycle[0].time},
                               [freeze(accounts, "circular trading")]))
    return alerts


def _cycles(first: Trade, by_seller: dict[tuple[str, int], list[Trade]], seconds: int,
            longest: int) -> list[list[Trade]]:
    out: list[list[Trade]] = []

    def walk(path: list[Trade]) -> None:
        last = path[-1]
        if last.buyer == first.seller and len(path) > 1:
            out.append(list(path))
            return
        if len(path) >= longest:
            return
        for nxt in by_seller.get((last.buyer, first.instrument), []):
            if (nxt.block, nxt.ref.log_index) > (last.block, last.ref.log_index) \
                    and nxt.time - first.time <= seconds and nxt.buyer not in {t.seller for t in path[1:]}:
                walk([*path, nxt])
                if out:
                    return

    walk([first])
    return out[:1]


def spoofing(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """Large orders withdrawn before any fill, soon after they were entered (large: ``large_multiple`` times the size
    that 90% of the instrument's orders do not exceed, and at least ``min_large_lots``); and accounts that withdraw
    unfilled most of their orders of some size (``ratio`` of at least ``ratio_min_orders`` orders of
    ``ratio_min_multiple`` times that size). Against the 90th percentile, not the median: where honest order sizes
    spread widely, a re-quoted order of the usual largest size is not large. With ``opposite_trade``, also an order
    withdrawn unfilled after its owner traded on the other side while it rested."""
    placed = [o for o in tape.placements if window.holds(o.ref.block) and not o.call_round]
    typical = {i: _percentile([o.lots for o in placed if o.instrument == i], 90)
               for i in {o.instrument for o in placed}}
    alerts = []
    for o in placed:
        large = max(p["large_multiple"] * typical[o.instrument], p["min_large_lots"])
        if o.cancelled and not o.filled and o.lots >= large and o.cancel_time - o.time <= p["max_life"]:
            alerts.append(make("spoofing", p, f"{o.owner} withdrew a {o.lots}-lot {o.side.name.lower()} order "
                               f"{o.cancel_time - o.time} s after entering it, before any fill (90% of orders are "
                               f"{typical[o.instrument]:g} lots or fewer)", (o.owner,), o.instrument,
                               [o.ref, o.cancelled], tape, {"lots": o.lots, "seconds": o.cancel_time - o.time,
                                                            "p90_lots": typical[o.instrument], "key": o.id},
                               [freeze((o.owner,), "spoofing: large orders withdrawn before any fill")]))
    sized: dict[tuple[str, int], list[Order]] = defaultdict(list)
    for o in placed:
        if o.lots >= p["ratio_min_multiple"] * typical[o.instrument]:
            sized[(o.owner, o.instrument)].append(o)
    for (owner, instrument), orders in sized.items():
        withdrawn = [o for o in orders if o.cancelled and not o.filled]
        if len(orders) >= p["ratio_min_orders"] and len(withdrawn) / len(orders) >= p["ratio"]:
            alerts.append(make("spoofing", p, f"{owner} withdrew {len(withdrawn)} of its {len(orders)} orders "
                               f"unfilled", (owner,), instrument,
                               [r for o in withdrawn[:20] for r in (o.ref, o.cancelled) if r], tape,
                               {"orders": len(orders), "withdrawn": len(withdrawn),
                                "ratio": round(len(withdrawn) / len(orders), 3), "key": "ratio"},
                               [freeze((owner,), "layering: most orders withdrawn unfilled")]))
    if p["opposite_trade"]:
        alerts += _spoof_and_trade(tape, p, placed)
    alerts += _withdrawn_as_the_other_side_moved(tape, p, placed, typical)
    return alerts


def _withdrawn_as_the_other_side_moved(tape: Tape, p: dict[str, Any], placed: list[Order],
                                       typical: dict[int, int]) -> list[Alert]:
    """A sizeable order (``ratio_min_multiple`` times the 90th percentile) entered at or within ``near_ticks`` of
    the best price of its side, withdrawn unfilled within ``max_life`` once the other side had moved its way (the
    best ask up for a bid, the best bid down for an offer): the pressure it was there to make had worked."""
    alerts = []
    for o in placed:
        if not o.cancelled or o.filled or o.lots < p["ratio_min_multiple"] * typical[o.instrument]:
            continue
        (bid, ask), (bid_then, ask_then) = o.best_placed, o.best_cancelled
        near = (bid - o.tick if o.side == Side.BUY else o.tick - ask) <= p["near_ticks"]
        moved = (ask and ask_then > ask) if o.side == Side.BUY else (bid and 0 < bid_then < bid)
        if near and moved and o.cancel_time - o.time <= p["max_life"]:
            before, after = (ask, ask_then) if o.side == Side.BUY else (bid, bid_then)
            alerts.append(make("spoofing", p, f"{o.owner} withdrew its {o.lots}-lot {o.side.name.lower()} at tick "
                               f"{o.tick}, next to the best, once the other side had moved from {before} to {after}",
                               (o.owner,), o.instrument, [o.ref, o.cancelled], tape,
                               {"lots": o.lots, "tick": o.tick, "other_side": [before, after],
                                "key": f"moved {o.id}"},
                               [freeze((o.owner,), "spoofing: an order withdrawn once the other side had moved")]))
    return alerts


def _spoof_and_trade(tape: Tape, p: dict[str, Any], placed: list[Order]) -> list[Alert]:
    """An order withdrawn unfilled after its owner traded on the other side while it rested: a bid that props the
    price up while its owner sells (or an offer that pushes it down while it buys), gone once it has served."""
    by_owner: dict[tuple[str, int], list[Trade]] = defaultdict(list)
    for t in tape.trades:
        if t.kind == "continuous":
            for who in (t.buyer, t.seller):
                by_owner[(who, t.instrument)].append(t)
    alerts = []
    for o in placed:
        if not o.cancelled or o.filled:
            continue
        opposite = [t for t in by_owner.get((o.owner, o.instrument), ())
                    if (o.ref.block, o.ref.log_index) < (t.block, t.ref.log_index)
                    < (o.cancelled.block, o.cancelled.log_index)
                    and (t.seller if o.side == Side.BUY else t.buyer) == o.owner]
        if opposite:
            lots = sum(t.lots for t in opposite)
            verb = "sold" if o.side == Side.BUY else "bought"
            alerts.append(make("spoofing", p, f"{o.owner} {verb} {lots} lots while its {o.lots}-lot "
                               f"{o.side.name.lower()} order rested, then withdrew that order unfilled", (o.owner,),
                               o.instrument, [o.ref, *(t.ref for t in opposite), o.cancelled], tape,
                               {"order_lots": o.lots, "traded_lots": lots, "key": f"opposite {o.id}"},
                               [freeze((o.owner,), "spoofing: an order withdrawn after trading against its side")]))
    return alerts


def _percentile(values: list[int], pct: int) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, len(ordered) * pct // 100)]


def marking_close(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """Trades in the last ``close_minutes`` of a trading day that move the price from the one before by more than
    ``threshold_bps`` (the close sets tomorrow's reference); and call orders without which the round would have
    cleared more than ``call_threshold_bps`` away."""
    alerts = []
    last: dict[tuple[int, int], int] = {}
    for t in sorted(tape.trades, key=lambda t: (t.block, t.ref.log_index)):
        if t.kind != "continuous":
            continue
        day = day_of(t.time)
        listed = tape.instruments[t.instrument]
        before = last.get((t.instrument, day), listed.reference_at(t.time) * listed.tick)
        last[(t.instrument, day)] = t.price
        to_close = session_close(day) - t.time
        if not window.holds(t.block) or to_close > p["close_minutes"] * 60 or not before:
            continue
        move = abs(t.price - before) * 10_000 // before
        if move > p["threshold_bps"]:
            alerts.append(make("marking_close", p, f"{t.aggressor} moved the price {move / 100:.1f}% "
                               f"{to_close // 60} minutes before the close", (t.aggressor,), t.instrument, [t.ref],
                               tape, {"move_bps": move, "price": t.price, "before": before,
                                      "minutes_to_close": to_close // 60, "key": f"{t.ref.tx}:{t.ref.log_index}"}))
    for (instrument, round_), orders in tape.calls.items():
        cleared = tape.cleared.get((instrument, round_))
        if cleared is None or not window.holds(cleared[2].block) or not cleared[0]:
            continue
        tick_size = tape.instruments[instrument].tick
        reference = tape.instruments[instrument].reference_at(cleared[1] - 1)
        for owner, without in _prices_without_each(orders, tick_size, reference).items():
            move = abs(cleared[0] - without) * 10_000 // without
            if move > p["call_threshold_bps"]:
                alerts.append(make("marking_close", p, f"call round {round_} cleared at tick {cleared[0]}; without "
                                   f"{owner}'s orders it would have cleared at {without}", (owner,),
                                   instrument, [o.ref for o in orders if o.owner == owner] + [cleared[2]], tape,
                                   {"round": round_, "price_tick": cleared[0], "without": without,
                                    "move_bps": move}))
    return alerts


def _prices_without_each(orders: list[Order], tick_size: int, reference: int) -> dict[str, int]:
    """For each owner of a call's orders, the price the call would have cleared at without them (the market's
    rules, ``market.choose_price``), from the round's demand and supply curves less the owner's share: one pass
    per owner over the round's price ticks, not a clearing per owner."""
    ticks = sorted({o.price // tick_size for o in orders})
    at = {t: i for i, t in enumerate(ticks)}
    demand, supply = [0] * len(ticks), [0] * len(ticks)
    mine: dict[str, list[Order]] = defaultdict(list)
    for o in orders:
        mine[o.owner].append(o)
        (demand if o.side == Side.BUY else supply)[at[o.price // tick_size]] += o.lots
    for i in range(len(ticks) - 2, -1, -1):  # buys at or above each tick
        demand[i] += demand[i + 1]
    for i in range(1, len(ticks)):  # sells at or below it
        supply[i] += supply[i - 1]
    out = {}
    for owner, own in mine.items():
        table = []
        for i, tick in enumerate(ticks):
            d = demand[i] - sum(o.lots for o in own if o.side == Side.BUY and o.price // tick_size >= tick)
            s = supply[i] - sum(o.lots for o in own if o.side == Side.SELL and o.price // tick_size <= tick)
            if min(d, s):
                table.append((tick, min(d, s), d - s))
        if table:
            out[owner] = choose_price(table, reference)[0]
    return out


def concentration(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """The position report: holders of more than ``large_holder_pct`` of a listed token in circulation (system
    contracts' escrow apart); and accounts with more than ``volume_share_pct`` of an instrument's volume. The
    Herfindahl-Hirschman index of each instrument's token is among the figures."""
    alerts = []
    listed = {i.token for i in tape.instruments.values()}  # per instrument: what the market trades
    holders: dict[int, dict[str, int]] = defaultdict(dict)
    for (holder, token), units in tape.balances.items():
        if units > 0 and token in listed and not tape.is_system(holder):
            holders[token][holder] = units
    for token, held in holders.items():
        total = sum(held.values())
        hhi = round(sum((100 * u / total) ** 2 for u in held.values()))
        for holder, units in held.items():
            share = 100 * units / total
            if share > p["large_holder_pct"]:
                alerts.append(make("concentration", p, f"{holder} holds {share:.1f}% of token {token:#x} in "
                                   f"circulation", (holder,), _instrument_of(tape, token), tape.moves[(holder, token)],
                                   tape,
                                   {"units": units, "share_pct": round(share, 2), "holders": len(held), "hhi": hhi,
                                    "key": f"{token}"}))
    volume: dict[tuple[int, str], int] = defaultdict(int)
    totals: dict[int, int] = defaultdict(int)  # lots counted once per side (a call execution names one side)
    refs: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for t in _trades(tape, window, "continuous", "call", "block"):
        for who in {t.buyer, t.seller} - {""}:
            totals[t.instrument] += t.lots
            volume[(t.instrument, who)] += t.lots
            refs[(t.instrument, who)].append(t.ref)
    for (instrument, who), lots in volume.items():
        share = 100 * lots / totals[instrument] if totals[instrument] else 0
        if share > p["volume_share_pct"] and totals[instrument] >= 2 * p["min_volume_lots"]:
            alerts.append(make("concentration", p, f"{who} took part in {share:.1f}% of instrument {instrument}'s "
                               f"volume", (who,), instrument, refs[(instrument, who)][:20], tape,
                               {"lots": lots, "share_pct": round(share, 2), "volume": totals[instrument],
                                "key": "volume"}))
    return alerts


def _instrument_of(tape: Tape, token: int) -> int | None:
    return next((i.number for i in tape.instruments.values() if i.token == token), None)


def limits(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """Investors at or near (``warn_pct``) their position limit, holdings plus open buys; and trades at the day's
    price limit."""
    alerts: list[Alert] = []
    for instrument in tape.instruments.values():
        if not instrument.position_limit:
            continue
        holders = {h for (h, token), u in tape.balances.items() if token == instrument.token and u > 0}
        holders |= {o.owner for o in tape.orders.values() if o.instrument == instrument.number and o.left}
        for holder in sorted(holders):
            if not tape.has_role(holder, Role.INVESTOR) or tape.has_role(holder, Role.ENTERPRISE):
                continue
            position = tape.balances[(holder, instrument.token)] + \
                tape.open_buy_lots(holder, instrument.number) * instrument.lot
            share = 100 * position / instrument.position_limit
            key = f"limit {holder}"
            if share >= p["warn_pct"]:
                state = "at" if share >= 100 else "near"
                evidence = [*tape.moves[(holder, instrument.token)], *([instrument.limit_set] if instrument.limit_set
                                                                        else [])]
                alerts.append(make("limits", p, f"investor {holder} is {state} its position limit: {position} of "
                                   f"{instrument.position_limit} units ({share:.0f}%)", (holder,), instrument.number,
                                   evidence, tape, {"position": position, "limit": instrument.position_limit,
                                              "share_pct": round(share, 1), "key": key}))
    if p["price_at_limit"]:
        for t in _trades(tape, window, "continuous"):
            listed = tape.instruments[t.instrument]
            low, high = band(listed.reference_at(t.time), tape.band_bps)
            tick = t.price // listed.tick
            if tick in (low, high):
                # the price's state, not an accusation: the alert names the instrument, not the parties
                alerts.append(make("limits", p, f"a trade at the day's {'upper' if tick == high else 'lower'} price "
                                   f"limit (tick {tick}) between {t.buyer} and {t.seller}", (), t.instrument,
                                   [t.ref], tape, {"tick": tick, "low": low, "high": high,
                                                  "key": f"{t.ref.tx}:{t.ref.log_index}"}))
    return alerts


def compliance_risk(tape: Tape, p: dict[str, Any], window: Window) -> list[Alert]:
    """Enterprises that, within ``days_before`` days of a year's deadline, hold (with their open buys) less than
    what they still have to surrender: an early warning the regulator can act on."""
    now = tape.time_of(window.end)
    alerts = []
    for (year, enterprise), record in tape.obligations.items():
        deadline = tape.deadlines.get(year, 0)
        if not record.finalized or record.settled or not (deadline - p["days_before"] * DAY <= now < deadline):
            continue
        due = record.emissions - record.surrendered
        held = sum(u for (h, token), u in tape.balances.items() if h == enterprise and u > 0 and is_allowance(token))
        buying = sum(tape.open_buy_lots(enterprise, i.number) * i.lot for i in tape.instruments.values()
                     if is_allowance(i.token))
        if held + buying < due:
            alerts.append(make("compliance_risk", p, f"{enterprise} must still surrender {due:,} t for {year} "
                               f"and holds {held:,} (+{buying:,} bid) with {(deadline - now) // DAY} days left",
                               (enterprise,), None, [record.ref] if record.ref else [], tape,
                               {"year": year, "due": due, "held": held, "bid": buying, "short": due - held - buying,
                                "days_left": (deadline - now) // DAY}))
    return alerts


RULES: dict[str, Rule] = {"wash": wash, "circular": circular, "spoofing": spoofing, "marking_close": marking_close,
                          "concentration": concentration, "limits": limits, "compliance_risk": compliance_risk}


def detect(tape: Tape, policy: Policy, window: Window) -> list[Alert]:
    """Every alert of the policy's rules, in chain order of their first evidence."""
    alerts = [a for rule, params in policy.rules.items() for a in RULES[rule](tape, params, window)]
    return sorted(alerts, key=lambda a: (a.first_block, a.rule, a.accounts))
