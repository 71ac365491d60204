"""The demo's trading session, between the true-up and surrender: firms with a surplus sell part of it, an investor
and firms that want a margin buy. An opening call auction (one clearing price, the longer side rationed), a
continuous session (price-time priority, partial fills, immediate-or-cancel, a cancellation, makers claiming),
and block trades gated by credit tier. Every figure printed is read back from the chain's events."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from brownie.exceptions import VirtualMachineError

from carbon_market import errors, trading
from carbon_market.console import quiet, say, show
from carbon_market.ids import allowance_id
from carbon_market.market import Side
from carbon_market.suite import MONEY_UNIT, Suite
from carbon_market.year import latest_timestamp

LOT = 10  # tonnes per lot
TICK = MONEY_UNIT // 10  # 0.1 tCNY per lot: 0.01 tCNY per tonne
REFERENCE_TICK = 6_000  # 600 tCNY per lot: 60 tCNY per tonne
BUY, SELL = Side.BUY, Side.SELL

FUNDING = {"Green Fund (investor)": 200_000, "Datang Power": 200_000}  # tCNY issued before trading
CALL_ORDERS = [  # name, side, price tick, lots
    ("Huaneng Power", SELL, 5_950, 120),
    ("Guodian Power", SELL, 6_020, 80),
    ("Jidong Cement", SELL, 5_900, 50),
    ("Green Fund (investor)", BUY, 6_050, 100),
    ("Conch Cement", BUY, 6_000, 60),
    ("Datang Power", BUY, 5_980, 70),
]
CONTINUOUS_ORDERS = [  # name, side, price tick, lots, immediate-or-cancel
    ("Huaneng Power", SELL, 6_010, 30, False),
    ("Guodian Power", SELL, 6_030, 40, False),
    ("Datang Power", BUY, 5_990, 50, False),
    ("Green Fund (investor)", BUY, 6_030, 50, False),
    ("Jidong Cement", SELL, 5_990, 30, False),
    ("Conch Cement", BUY, 5_950, 20, False),
    ("Datang Power", BUY, 6_030, 30, True),
]


def per_tonne(price: int) -> str:
    """A price per lot in money units, shown in tCNY per tonne."""
    return f"{price / LOT / MONEY_UNIT:,.2f}"


class Session:
    """Who is who, the instrument, and the orders each participant has placed (for claiming)."""

    def __init__(self, suite: Suite, people: dict[str, Any], year: int) -> None:
        self.suite, self.people, self.year = suite, people, year
        self.names = {str(a): n for n, a in people.items()}
        self.orders: dict[Any, list[int]] = defaultdict(list)
        self.instrument = 0

    def who(self, address: Any) -> str:
        return self.names.get(str(address), str(address))

    def named(self, text: str) -> str:
        """``text`` with every participant's address replaced by its name."""
        for address, name in self.names.items():
            text = text.replace(address, name).replace(address.lower(), name)
        return text

    def place(self, name: str, side: Side, tick: int, lots: int, ioc: bool = False) -> trading.Placed:
        with quiet():
            placed = trading.place(self.suite, self.people[name], self.instrument, side, tick * TICK, lots,
                                   immediate_or_cancel=ioc)
        if placed.order_id:
            self.orders[self.people[name]].append(placed.order_id)
        return placed

    def claim_all(self) -> None:
        with quiet():
            trading.claim(self.suite, self.people["Exchange"], self.orders)
        self.orders.clear()


def run(suite: Suite, people: dict[str, Any], year: int) -> None:
    """The whole session; prints what happened."""
    s = Session(suite, people, year)
    _open(s)
    _call_auction(s)
    _continuous(s)
    _blocks(s)
    _close(s)


def _open(s: Session) -> None:
    regulator, exchange = s.people["Regulator"], s.people["Exchange"]
    traders = [s.people[n] for n in {name for name, *_ in CALL_ORDERS + CONTINUOUS_ORDERS}]
    with quiet():
        for name, amount in FUNDING.items():
            s.suite.money.issue(s.people[name], amount * MONEY_UNIT, {"from": regulator})
        s.instrument = trading.open_instrument(
            s.suite, regulator, exchange, allowance_id(s.year), lot_size=LOT, tick_size=TICK,
            reference_price=REFERENCE_TICK * TICK, traders=traders)
    say(f"Trading session: allowance {s.year} listed as instrument {s.instrument} ({LOT} t per lot, reference "
        f"{per_tonne(REFERENCE_TICK * TICK)} tCNY/t, limits +/-10%); fee rates by credit tier")
    market, credit = s.suite.market, s.suite.credit
    for trader in sorted(traders, key=s.who):
        show(f"  {s.who(trader):24} credit {int(credit.balanceOf(trader)):>3}  tier {int(credit.tierOf(trader))}  "
             f"fee {int(market.feeRateOf(trader))} bps")


def _call_auction(s: Session) -> None:
    say("Opening call auction: orders collect without matching, then one price clears them all")
    with quiet():
        s.suite.market.openCall(s.instrument, {"from": s.people["Exchange"]})
    entered = []
    for name, side, tick, lots in CALL_ORDERS:
        entered.append((name, side, lots, s.place(name, side, tick, lots).order_id))
        show(f"  {name:24} {side.name.lower():4} {lots:>4} lots at {per_tonne(tick * TICK):>6}")
    with quiet():
        cleared = trading.run_call(s.suite, s.people["Exchange"], s.instrument)
        claims = trading.claim(s.suite, s.people["Exchange"], {s.people[n]: [oid] for n, _, _, oid in entered})
    rationed = f"; {cleared.rationed.name.lower()} side rationed by time priority" if cleared.rationed else ""
    show(f"  cleared at {per_tonne(cleared.price)} tCNY/t: {cleared.volume} lots ({cleared.volume * LOT:,} t) in "
         f"{cleared.transactions} transaction(s){rationed}; the clearing price is the new reference")
    executed = {int(e["orderId"]): int(e["lots"]) for tx in claims for e in tx.events["OrderClaimed"]}
    for name, side, lots, oid in entered:
        show(f"  {name:24} {side.name.lower():4} executed {executed.get(oid, 0):>4} of {lots}")


def _continuous(s: Session) -> None:
    say("Continuous session: price-time priority, partial fills, makers claim their proceeds")
    for name, side, tick, lots, ioc in CONTINUOUS_ORDERS:
        placed = s.place(name, side, tick, lots, ioc)
        trades = ", ".join(f"{f.lots} at {per_tonne(f.price)} with {s.who(s.suite.market.order(f.order_id)['owner'])}"
                           for f in placed.fills)
        kind = " (immediate-or-cancel)" if ioc else ""
        show(f"  {name:24} {side.name.lower():4} {lots:>3} lots at {per_tonne(tick * TICK)}{kind}: filled "
             f"{placed.filled}{' [' + trades + ']' if trades else ''}, rests {placed.rested}, expired {placed.expired}")
    conch = s.people["Conch Cement"]
    with quiet():
        returned = trading.cancel(s.suite, conch, s.orders[conch].pop())
    show(f"  Conch Cement cancels its bid: {returned} lots returned with their escrow")
    s.claim_all()
    bid, ask = (int(x) for x in s.suite.market.bestTicks(s.instrument))
    best_bid, best_ask = (per_tonne(bid * TICK) if bid else "-"), (per_tonne(ask * TICK) if ask else "-")
    show(f"  book now: best bid {best_bid}, best ask {best_ask}")


def _blocks(s: Session) -> None:
    p = s.suite.market.params()
    low, high = (int(x) for x in s.suite.desk.priceLimits(s.instrument))
    say(f"Block trades: at least {int(p[3])} lots, within +/-{int(p[2]) // 100}% of the reference "
        f"({per_tonne(low)} to {per_tonne(high)} tCNY/t), credit tier {int(p[5])} or above")
    expiry = latest_timestamp() + 3_600
    fund, guodian = s.people["Green Fund (investor)"], s.people["Guodian Power"]
    try:
        with quiet():
            trading.propose_block(s.suite, fund, guodian, s.instrument, BUY, 100, 6_200 * TICK, expiry)
    except VirtualMachineError as exc:
        show(f"  Green Fund proposes to buy 100 lots from Guodian Power: refused, {s.named(str(errors.decode(exc)))}")
    huaneng, datang = s.people["Huaneng Power"], s.people["Datang Power"]
    with quiet():
        block = trading.propose_block(s.suite, huaneng, datang, s.instrument, SELL, 100, 6_300 * TICK, expiry)
        traded = trading.accept_block(s.suite, datang, block)
    show(f"  Huaneng Power sells 100 lots to Datang Power at {per_tonne(traded['price'])} tCNY/t (block {block}): "
         f"fees {traded['buyerFee'] / MONEY_UNIT:,.2f} + {traded['sellerFee'] / MONEY_UNIT:,.2f} tCNY to the exchange")


def _close(s: Session) -> None:
    market, exchange = s.suite.market, s.people["Exchange"]
    with quiet():
        tx = market.withdrawFees({"from": exchange})
    ins = market.instrument(s.instrument)
    show(f"  last price {per_tonne(int(ins[4]) * TICK)} tCNY/t; the exchange withdrew "
         f"{tx.events['FeesWithdrawn']['amount'] / MONEY_UNIT:,.2f} tCNY of book fees")
