// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title UniformPrice
/// @notice The arithmetic of a sealed-bid, uniform-price auction, apart from its storage: what a bid receives,
/// purchase limits, and the minimum price against a secondary market. `carbon_market/auctions.py` computes the
/// same in Python; the property tests compare the two.
library UniformPrice {
    uint256 internal constant BPS = 10_000;

    /// @notice The units a bid receives. Above the clearing tick it fills in full, below it nothing. At the clearing
    /// tick the bids share `sold - above` pro rata by cumulative rounding in reveal order: the bid whose demand spans
    /// `[queue, queue + quantity)` of the `atPrice` units bid there receives
    /// `floor(share * (queue + quantity) / atPrice) - floor(share * queue / atPrice)`. Each bid is within one unit
    /// of its exact share and the shares add up to `share` exactly (the sum telescopes).
    function fill(
        uint24 tick,
        uint48 quantity,
        uint48 queue,
        uint24 priceTick,
        uint48 above,
        uint48 atPrice,
        uint48 sold
    ) internal pure returns (uint48) {
        if (quantity == 0 || tick < priceTick) return 0;
        if (tick > priceTick) return quantity;
        uint256 share = uint256(sold) - above;
        // share <= atPrice and queue + quantity <= atPrice, so each product fits 96 bits and the result `quantity`
        return uint48(share * (uint256(queue) + quantity) / atPrice - share * queue / atPrice);
    }

    /// @notice A bidder's purchase limit: `limitBps` of `volume`, rounded up (so that a small auction still lets
    /// each bidder bid for a unit; a zero share excludes).
    function purchaseLimit(uint48 volume, uint16 limitBps) internal pure returns (uint256) {
        return (uint256(volume) * limitBps + BPS - 1) / BPS;
    }

    /// @notice The lowest acceptable clearing price: `referencePrice` less `maxDiscountBps`, rounded up (a zero discount
    /// makes the reference itself the minimum). The auction asks only when it has a reference instrument.
    function minimumPrice(uint256 referencePrice, uint16 maxDiscountBps) internal pure returns (uint256) {
        return (referencePrice * (BPS - maxDiscountBps) + BPS - 1) / BPS;
    }

    /// @notice The share `forfeitBps` of a deposit, rounded down.
    function forfeit(uint256 deposit, uint16 forfeitBps) internal pure returns (uint256) {
        return deposit * forfeitBps / BPS;
    }
}
