"""The primary auction's rules in plain Python: a sealed-bid, uniform-price auction cleared from a list of bids.

This is the specification the contract (``PrimaryAuction``, ``UniformPrice``) is tested against, written the
obvious way rather than the contract's way: bids sorted by price, accepted from the highest until the volume is
covered; the clearing price is the lowest accepted bid; bids at that price share what is left pro rata, each
receiving ``floor(share * end / at) - floor(share * start / at)`` where ``[start, end)`` is its span of the demand
at that price in reveal order (every share within one unit of the exact one, the shares adding up exactly).

Prices are money units per allowance unit; quantities allowance units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

BPS = 10_000


@dataclass(frozen=True)
class SealedBid:
    """A revealed bid, in reveal order."""

    bidder: str
    price: int
    quantity: int


@dataclass(frozen=True)
class Clearing:
    """What an auction's clearing gives: the price (0 when nothing is sold), the units sold, and each bid's units in
    the order of the bids given."""

    price: int
    sold: int
    allocations: tuple[int, ...]
    cancelled: bool = False
    unsold: int = 0
    paid: tuple[int, ...] = field(default=())


def clear(volume: int, bids: Sequence[SealedBid], *, floor: int = 0, minimum: int = 0,
          cancel_below_minimum: bool = True) -> Clearing:
    """Clear an auction of ``volume`` units. Bids below ``floor`` (the reserve price) are not accepted; with
    ``cancel_below_minimum`` a clearing price under ``minimum`` cancels the auction, without it bids under
    ``minimum`` are not accepted either (the auction sells less)."""
    effective_floor = floor if cancel_below_minimum else max(floor, minimum)
    eligible = [i for i, b in enumerate(bids) if b.price >= effective_floor]
    prices = sorted({bids[i].price for i in eligible}, reverse=True)
    above = 0
    price = 0
    for p in prices:
        at = sum(bids[i].quantity for i in eligible if bids[i].price == p)
        price = p
        if above + at >= volume:
            break
        above += at
    else:
        if price:  # demand ran out: every eligible bid is accepted
            above -= sum(bids[i].quantity for i in eligible if bids[i].price == price)
    if price == 0 or (cancel_below_minimum and price < minimum):
        return Clearing(price=0, sold=0, allocations=(0,) * len(bids), cancelled=True, unsold=volume,
                        paid=(0,) * len(bids))
    at = sum(bids[i].quantity for i in eligible if bids[i].price == price)
    sold = min(volume, above + at)
    share = sold - above
    allocations = []
    start = 0
    for b in bids:
        if b.price > price and b.price >= effective_floor:
            allocations.append(b.quantity)
        elif b.price == price:
            end = start + b.quantity
            allocations.append(share * end // at - share * start // at)
            start = end
        else:
            allocations.append(0)
    return Clearing(price=price, sold=sold, allocations=tuple(allocations), unsold=volume - sold,
                    paid=tuple(a * price for a in allocations))


def purchase_limit(volume: int, limit_bps: int) -> int:
    """The most one bidder may bid for, in units (rounded up: a zero share excludes, any other allows a unit)."""
    return -(-volume * limit_bps // BPS)


def minimum_price(reference: int, max_discount_bps: int) -> int:
    """The lowest clearing price against a secondary reference (0 without one: ``0 * anything`` rounds to 0)."""
    return -(-reference * (BPS - max_discount_bps) // BPS)


def sealing_deposit(value: int) -> int:
    """A deposit that covers a bid of ``value`` without telling it: the smallest amount of the 1-2-5 series
    (1, 2, 5, 10, 20, 50... money units) at or above it, so that what is on chain before the reveal places the bid
    only within a factor of at most 2.5."""
    step = 1
    while True:
        for d in (1, 2, 5):
            if d * step >= value:
                return d * step
        step *= 10


def forfeit(deposit: int, forfeit_bps: int) -> int:
    """What an unrevealed commitment loses of its deposit."""
    return deposit * forfeit_bps // BPS


@dataclass(frozen=True)
class AuctionRules:
    """An auction's rules (``IPrimaryAuction.Rules``), with the defaults the README explains: purchase limits of
    25% of the volume for an enterprise and 4% for an investor (California's limits for covered entities and
    voluntarily associated entities), cancellation when the clearing price falls more than 10% under the secondary
    reference (the EU's rule, whose threshold the platform does not publish: 10% is this project's), unrevealed
    commitments losing 10% of their deposit, unsold volume carried to the next auction (as the EU and California do)."""

    reserve_price: int
    tick_size: int
    commit_end: int
    reveal_end: int
    enterprise_limit_bps: int = 2_500
    investor_limit_bps: int = 400
    forfeit_bps: int = 1_000
    max_discount_bps: int = 1_000
    reference_instrument: int = 0
    cancel_below_minimum: bool = True
    unsold_to_reserve: bool = False

    def as_tuple(self) -> tuple:
        return (self.reserve_price, self.tick_size, self.commit_end, self.reveal_end, self.enterprise_limit_bps,
                self.investor_limit_bps, self.forfeit_bps, self.max_discount_bps, self.reference_instrument,
                self.cancel_below_minimum, self.unsold_to_reserve)
