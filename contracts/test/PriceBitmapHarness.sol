// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PriceBitmap} from "../libraries/PriceBitmap.sol";
import {IMarket} from "../../interfaces/IMarket.sol";
import {MarketIds} from "../libraries/MarketIds.sol";

/// @title PriceBitmapHarness
/// @notice TEST ONLY. `PriceBitmap` over one map of its own, and the order-id layout of `MarketIds`, exposed so that
/// property tests check them against Python models (a sorted set; the documented bit layout).
contract PriceBitmapHarness {
    using PriceBitmap for mapping(uint256 => uint256);

    mapping(uint256 => uint256) private _map;

    /// @notice Add `tick` to the set of `base`.
    function set(uint256 base, uint24 tick) external {
        _map.set(base, tick);
    }

    /// @notice Remove `tick` from the set of `base`.
    function unset(uint256 base, uint24 tick) external {
        _map.unset(base, tick);
    }

    /// @notice The smallest tick of the set of `base` at or above `tick`, or `PriceBitmap.NONE`.
    function atOrAbove(uint256 base, uint256 tick) external view returns (uint256) {
        return _map.atOrAbove(base, tick);
    }

    /// @notice The largest tick of the set of `base` at or below `tick`, or `PriceBitmap.NONE`.
    function atOrBelow(uint256 base, uint256 tick) external view returns (uint256) {
        return _map.atOrBelow(base, tick);
    }

    /// @notice `MarketIds.levelKey`.
    function levelKey(bool call, uint32 instrument, uint32 round, IMarket.Side side, uint24 tick)
        external
        pure
        returns (uint256)
    {
        return MarketIds.levelKey(call, instrument, round, side, tick);
    }

    /// @notice What an order id says: `MarketIds.isCall` and `callLevel`.
    function decode(uint256 orderId)
        external
        pure
        returns (bool call, uint32 instrument, uint32 round, IMarket.Side side, uint24 tick)
    {
        call = MarketIds.isCall(orderId);
        (instrument, round, side, tick) = MarketIds.callLevel(orderId);
    }

    /// @notice `MarketIds.level`: what a continuous order's id says.
    function level(uint256 orderId) external pure returns (uint32 instrument, IMarket.Side side, uint24 tick) {
        return MarketIds.level(orderId);
    }
}
