// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarket} from "../../interfaces/IMarket.sol";
import {MarketMath} from "./MarketIds.sol";

/// @title TPlusOne
/// @notice The T+1 rule, kept once for the market and the block desk: a ledger of the units delivered to an account
/// today per instrument (one slot, `units << 32 | day`, so yesterday's figure needs no clean-up), and the check that a
/// sell leaves those units unsold.
library TPlusOne {
    /// @notice The units `ledger` records as delivered to `account` in instrument `id` today.
    function boughtToday(mapping(address => mapping(uint32 => uint256)) storage ledger, address account, uint32 id)
        internal
        view
        returns (uint256)
    {
        uint256 slot = ledger[account][id];
        // slither-disable-next-line incorrect-equality (trading days are whole numbers: equality is the intended test)
        return uint32(slot) == MarketMath.tradingDay(block.timestamp) ? slot >> 32 : 0;
    }

    /// @notice Record `units` of instrument `id` delivered to `account` today.
    function add(mapping(address => mapping(uint32 => uint256)) storage ledger, address account, uint32 id, uint256 units)
        internal
    {
        uint256 already = boughtToday(ledger, account, id);
        ledger[account][id] = (already + units) << 32 | MarketMath.tradingDay(block.timestamp);
    }

    /// @notice Revert `Market__BoughtToday` unless `seller`, holding `balance` of which `bought` arrived today, can
    /// sell `units` without selling any of those.
    function requireSellable(address seller, uint32 id, uint256 units, uint256 balance, uint256 bought) internal pure {
        uint256 sellable = balance > bought ? balance - bought : 0;
        if (units > sellable) revert IMarket.Market__BoughtToday(seller, id, units, sellable);
    }
}
