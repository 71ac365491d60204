// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ISettlementToken} from "../interfaces/ISettlementToken.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";

/// @title SettlementToken
/// @notice A permissioned ERC-20 with 6 decimals for the money leg of trades. On a real network the market
/// can be pointed at any ERC-20 instead; this one is for local chains and consortium networks.
contract SettlementToken is ISettlementToken, ERC20, RegistryAccessControl {
    /// @notice May issue and redeem money.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @param registry_ the participant registry
    /// @param name_ token name, e.g. "Digital Yuan (test)"
    /// @param symbol_ token symbol, e.g. "tCNY"
    constructor(IParticipantRegistry registry_, string memory name_, string memory symbol_)
        ERC20(name_, symbol_)
        RegistryAccessControl(registry_)
    {}

    /// @notice Amounts have 6 decimals: 1_000_000 units are one currency unit.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @inheritdoc ISettlementToken
    function issue(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        if (amount == 0) revert Settlement__ZeroAmount();
        _mint(to, amount);
        emit MoneyIssued(to, amount, msg.sender);
    }

    /// @inheritdoc ISettlementToken
    function redeem(uint256 amount) external onlyRole(ISSUER_ROLE) {
        if (amount == 0) revert Settlement__ZeroAmount();
        _burn(msg.sender, amount);
        emit MoneyRedeemed(amount, msg.sender);
    }

    /// @notice Approve `spender`; the owner must be active, and the spender too unless `value` is zero.
    function approve(address spender, uint256 value) public virtual override returns (bool) {
        _requireActive(_msgSender());
        if (value != 0) _requireActive(spender);
        return super.approve(spender, value);
    }

    /// @dev Transfers need `from`, `to` and any spender other than `from` active; issuance needs `to` active.
    function _update(address from, address to, uint256 value) internal virtual override {
        if (to != address(0)) {
            if (from != address(0)) _requireTransfer(_msgSender(), from, to);
            else _requireActive(to);
        }
        super._update(from, to, value);
    }
}
