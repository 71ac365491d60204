// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title The settlement token (ERC-20, 6 decimals)
/// @notice The money leg of every trade, a permissioned stand-in for a central-bank digital currency: issued
/// and redeemed by a designated issuer, held and moved only by active registered participants and system contracts.
interface ISettlementToken {
    /// @notice Thrown when an issuance or redemption has a zero amount.
    error Settlement__ZeroAmount();

    /// @notice Emitted when the issuer issues money to `to`.
    event MoneyIssued(address indexed to, uint256 amount, address indexed issuer);
    /// @notice Emitted when the issuer redeems (burns) money from its own balance.
    event MoneyRedeemed(uint256 amount, address indexed issuer);

    /// @notice Issue `amount` to active participant `to`. Issuer only.
    function issue(address to, uint256 amount) external;

    /// @notice Burn `amount` of the issuer's own balance (money paid back out of the system). Issuer only.
    function redeem(uint256 amount) external;
}
