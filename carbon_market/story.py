"""``carbon-market story``: the pilot compliance year of ``operations/pilot-2026`` (five named enterprises, an
offset project, a rejected report, a call auction, a continuous session, a block trade, a primary auction with the
reserves and a circuit breaker, surrender on four schedules and settlement) run by the operations runner as an
operator would run it, then told from the chain alone: what the events say happened (:mod:`carbon_market.trace`)
and the audit at the last block (:mod:`carbon_market.audit`). Nothing here sends a transaction or keeps a copy of
the story: the file is the story, the chain is its record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from carbon_market import audit, trace
from carbon_market.codec import Event
from carbon_market.compliance import ReportState, Rules
from carbon_market.ids import decode
from carbon_market.roles import role_names
from carbon_market.suite import MONEY_UNIT, Suite

#: the operations file the story runs
PILOT = Path("operations/pilot-2026/year.yaml")


def _money(units: int) -> str:
    return f"{units / MONEY_UNIT:,.2f}"


class Narrator:
    """Tells a block range of a suite's events in the words of the file's account names."""

    def __init__(self, suite: Suite, names: dict[str, str], start: int) -> None:
        self.suite, self.start = suite, start
        self.names = {address.lower(): name for address, name in names.items()}
        self.events = trace.suite_events(suite, start)
        self.ticks: dict[int, tuple[int, int]] = {}  # instrument -> (lot size, tick size)

    def who(self, address: object) -> str:
        return self.names.get(str(address).lower(), str(address))

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    def per_tonne(self, instrument: int, price: int) -> str:
        lot, _ = self.ticks.get(instrument, (1, 1))
        return _money(price // lot)

    def lines(self) -> Iterator[str]:
        yield from self._participants()
        yield from self._offsets()
        yield from self._year()
        yield from self._market()
        yield from self._instruments()
        yield from self._outcomes()

    def _participants(self) -> Iterator[str]:
        joined = [f"{self.who(e.fields['account'])} ({'|'.join(role_names(int(e.fields['roles'])))})"
                  for e in self.named("ParticipantOnboarded")]
        yield f"Participants onboarded: {', '.join(joined)}"

    def _offsets(self) -> Iterator[str]:
        for e in self.named("OffsetsIssued"):
            yield (f"Offsets: project {e.fields['project']} issued {int(e.fields['amount']):,} "
                   f"{decode(int(e.fields['id']))} units, attested by {self.who(e.fields['verifier'])}")

    def _year(self) -> Iterator[str]:
        for e in self.named("YearOpened"):
            rules = Rules.from_chain(e.fields["rules"])
            yield (f"Compliance year {e.fields['year']} opened: {rules.pre_allocation_bps / 100:.0f}% pre-allocation, "
                   f"offsets up to {rules.offset_limit_bps / 100:.0f}% of emissions, fine "
                   f"{_money(rules.fine_per_tonne)} tCNY per tonne short")
        pre = self.named("PreAllocated")
        yield (f"  {len(pre)} enterprises enrolled, {sum(int(e.fields['preAllocation']) for e in pre):,} allowances "
               f"pre-allocated")
        for e in self.named("ReportRejected"):
            yield (f"  {self.who(e.fields['enterprise'])}'s report version {e.fields['version']} rejected by "
                   f"{self.who(e.fields['verifier'])}; it reported again")
        final = self.named("TrueUp")
        yield (f"  {len(final)} reports attested and finalised; true-up to "
               f"{sum(int(e.fields['entitlement']) for e in final):,} allowances in all")

    def _market(self) -> Iterator[str]:
        for e in self.named("InstrumentListed"):
            instrument = int(e.fields["instrument"])
            self.ticks[instrument] = (int(e.fields["lotSize"]), int(e.fields["tickSize"]))
            yield (f"Market: {decode(int(e.fields['tokenId']))} listed as instrument {instrument}, "
                   f"{e.fields['lotSize']} t per lot, reference "
                   f"{self.per_tonne(instrument, int(e.fields['referenceTick']) * int(e.fields['tickSize']))} tCNY/t")
        for e in self.named("CallCleared"):
            instrument = int(e.fields["instrument"])
            price = int(e.fields["priceTick"]) * self.ticks.get(instrument, (1, 1))[1]
            rationed = "; the longer side rationed by time priority" if e.fields["rationing"] else ""
            yield (f"  call auction round {e.fields['round']}: one price, {self.per_tonne(instrument, price)} tCNY/t, "
                   f"for {int(e.fields['volume']):,} lots{rationed}")
        fills = self.named("OrderFilled")
        if fills:
            lots = sum(int(e.fields["lots"]) for e in fills)
            prices = sorted({self.per_tonne(int(e.fields["instrument"]), int(e.fields["price"])) for e in fills})
            yield f"  continuous trading: {len(fills)} fills, {lots:,} lots, at {', '.join(prices)} tCNY/t"
        cancelled = self.named("OrderCancelled")
        if cancelled:
            yield "  cancelled: " + ", ".join(f"{self.who(e.fields['owner'])} ({e.fields['remaining']} lots returned)"
                                              for e in cancelled)
        for e in self.named("BlockTraded"):
            shown = self.per_tonne(int(e.fields["instrument"]), int(e.fields["price"]))
            yield (f"  block {e.fields['blockId']}: {self.who(e.fields['seller'])} sold {e.fields['lots']} lots to "
                   f"{self.who(e.fields['buyer'])} at {shown} tCNY/t")
        for e in self.named("FeesWithdrawn"):
            yield f"  fees withdrawn: {_money(int(e.fields['amount']))} tCNY to {self.who(e.fields['recipient'])}"

    def _instruments(self) -> Iterator[str]:
        for e in self.named("SupplyComputed"):
            f = e.fields
            intake, release = int(f["intake"]), int(f["release"])
            moved = (f"{intake:,} withheld from the next auctions" if intake
                     else f"{release:,} released to the next auctions" if release else "nothing moved")
            yield f"Supply reserve, period {f['period']}: {int(f['circulation']):,} allowances in circulation; {moved}"
        for e in self.named("AuctionOffered"):
            auction = int(e.fields["auctionId"])
            chosen = [x for x in self.events if int(x.fields.get("auctionId", -1)) == auction]
            r = trace.auction_record(chosen)
            yield (f"Primary auction {auction}: {r['volume']:,} allowances of {r['vintage']}, "
                   f"{r['commitments']} sealed bids ({r['revealed']} revealed, {r['demand']:,} t asked for); "
                   f"{r['state']}"
                   + (f" at {_money(r['price'])} tCNY/t (the lowest accepted bid), {r['sold']:,} t sold, "
                      f"{_money(r['paid'])} tCNY to the treasury" if r["state"] == "cleared" else ""))
            for claim in (x for x in chosen if x.name == "BidClaimed" and int(x.fields["units"])):
                yield f"  {self.who(claim.fields['bidder'])}: {int(claim.fields['units']):,} t"
        for e in self.named("ReserveSold"):
            yield (f"Containment reserve: {self.who(e.fields['buyer'])} bought {int(e.fields['quantity']):,} t at "
                   f"{_money(int(e.fields['price']))} tCNY/t (tier {e.fields['tier']})")
        for e in self.named("Halted"):
            yield f"Circuit breaker: instrument {e.fields['instrument']} halted until {e.fields['until']}"

    def _outcomes(self) -> Iterator[str]:
        enterprises = list(dict.fromkeys(str(e.fields["enterprise"]) for e in self.named("PreAllocated")))
        years = {int(e.fields["year"]) for e in self.named("YearOpened")}
        for year in sorted(years):
            yield f"Outcome of {year}, per enterprise, from its events alone (trace report)"
            header = (f"  {'enterprise':10} {'allocated':>9} {'verified':>9} {'allow.':>7} {'offsets':>7} "
                      f"{'outcome':10} {'short':>6} {'fine (tCNY)':>12} {'credit':>7}")
            yield header
            outcomes: Counter[str] = Counter()
            for address in enterprises:
                r = trace.report_history(self.suite, year, address, self.start).record
                if r["state"] == ReportState.NONE:
                    continue
                outcome = r["outcome"].name.lower()
                outcomes[outcome] += 1
                credit = int(r["creditRewarded"]) - int(r["creditBurned"])
                yield (f"  {self.who(address):10} {r['allocated']:>9,} {r['verifiedEmissions']:>9,} "
                       f"{r['allowancesSurrendered']:>7,} {r['offsetsSurrendered']:>7,} {outcome:10} "
                       f"{r['shortfall']:>6,} {_money(int(r['fine'])):>12} {credit:>+7}")
            yield "  " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))


def tell(suite: Suite, names: dict[str, str], start: int) -> list[str]:
    """The story of the suite's events from block ``start``, with addresses shown by ``names``."""
    return list(Narrator(suite, names, start).lines())


def write_audit(suite: Suite, block: int, out: Path, *, network: str, chain_id: int) -> tuple[audit.Audit, list[Path]]:
    """The audit at ``block``, written into ``out``."""
    report = audit.build(suite, block, network=network, chain_id=chain_id)
    return report, audit.write(report, out)
