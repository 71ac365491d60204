"""Sealed bids as the primary auction hashes them: ``keccak256(abi.encode(auctionId, bidder, price, quantity,
salt))`` (``PrimaryAuction.commitmentOf``), and the salts that keep them sealed."""

from __future__ import annotations

import hashlib

from eth_abi import encode
from eth_utils import keccak, to_checksum_address


def commitment(auction_id: int, bidder: str, price: int, quantity: int, salt: bytes) -> bytes:
    """The hash a bidder commits to."""
    return keccak(encode(["uint256", "address", "uint256", "uint48", "bytes32"],
                         [auction_id, to_checksum_address(bidder), price, quantity, salt]))


def salt_for(secret: bytes, auction_id: int, bidder: str, label: str) -> bytes:
    """A salt derived from a bidder's secret, so that a bid can be revealed again from the operations file and the
    secret alone (nothing to keep between the commit and the reveal) and nobody without the secret can guess it."""
    message = f"{auction_id}:{bidder.lower()}:{label}".encode()
    return hashlib.blake2b(message, key=secret[:64], digest_size=32).digest()
