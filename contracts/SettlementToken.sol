// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ISettlementToken} from "../interfaces/ISettlementToken.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";

/// @title SettlementToken
/// @notice A permissioned ERC-20 with 6 decimals for the money leg of trades. On a real network the market
/// can be pointed at any ERC-20 instead; this one is for local chains and consortium networks.
contract SettlementToken is ISettlementToken, ERC20, RegistryAccessControl, Initializable {
    /// @notice May issue and redeem money.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @dev ERC20's own name and symbol are written by its constructor, which a proxy never runs: these replace them.
    string private _tokenName;
    string private _tokenSymbol;

    /// @param registry_ the participant registry
    /// @param name_ token name, e.g. "Digital Yuan (test)"
    /// @param symbol_ token symbol, e.g. "tCNY"
    constructor(IParticipantRegistry registry_, string memory name_, string memory symbol_)
        ERC20("", "")
        RegistryAccessControl(registry_)
    {
        initialize(name_, symbol_);
    }

    /// @notice Sets what the constructor would: run by the constructor (a direct deployment, or the implementation
    /// of a proxy, which thereby can never be initialized again) and once by a proxy when it is deployed, whose
    /// storage the constructor never sees. The immutables (registry, tokens) are the code's.
    /// @param name_ token name, e.g. "Digital Yuan (test)"
    /// @param symbol_ token symbol, e.g. "tCNY"
    function initialize(string memory name_, string memory symbol_) public initializer {
        _tokenName = name_;
        _tokenSymbol = symbol_;
    }

    /// @notice The token's name, e.g. "Digital Yuan (test)".
    function name() public view override returns (string memory) {
        return _tokenName;
    }

    /// @notice The token's symbol, e.g. "tCNY".
    function symbol() public view override returns (string memory) {
        return _tokenSymbol;
    }

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
