// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipantRegistry} from "../../interfaces/IParticipantRegistry.sol";
import {Roles} from "../libraries/Roles.sol";

/// @title RegistryAccessControl
/// @notice OpenZeppelin AccessControl whose authority is the participant registry:
/// - `GOVERNOR_ROLE` (the governed actions: parameters, and granting and revoking every other role) is held by the
///   registry's governor, the timelock whose approvers are the regulators, once the suite is handed to it; until
///   then by every active regulator;
/// - `DEFAULT_ADMIN_ROLE` (what a single regulator does at once: pause, recover, enforce) is held by every active
///   regulator of the registry and by nobody else;
/// - any other role (issuer, surrender, rules...) needs both a grant here and an active registration,
///   so freezing or revoking an account in the registry also stops it acting here.
abstract contract RegistryAccessControl is AccessControl {
    /// @notice Thrown when a contract is deployed with a registry address that holds no code.
    error Access__RegistryWithoutCode(address registry);

    /// @notice The governed actions' role (see the contract's notice); also the admin of every role.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");

    IParticipantRegistry private immutable _registry;

    constructor(IParticipantRegistry registry_) {
        // the code check also makes `_requireTransfer`'s low-level call safe: a call to an address without
        // code would succeed silently, and code cannot be removed after deployment (EIP-6780)
        if (address(registry_).code.length == 0) revert Access__RegistryWithoutCode(address(registry_));
        _registry = registry_;
    }

    /// @dev The governed actions: `GOVERNOR_ROLE`'s (one function, not a copy of the role id at every use).
    modifier onlyGovernor() {
        _checkGovernor();
        _;
    }

    /// @notice The participant registry this contract takes its authority from.
    function registry() public view returns (IParticipantRegistry) {
        return _registry;
    }

    /// @notice Whether `account` holds `role`; for `DEFAULT_ADMIN_ROLE`, whether it is an active regulator; for
    /// `GOVERNOR_ROLE`, whether it is the registry's governor (an active regulator while there is none).
    function hasRole(bytes32 role, address account) public view virtual override returns (bool) {
        if (role == DEFAULT_ADMIN_ROLE) {
            return _askRegistry(IParticipantRegistry.hasRole.selector, account, Roles.REGULATOR) != 0;
        }
        if (role == GOVERNOR_ROLE) return _askRegistry(IParticipantRegistry.isGovernor.selector, account, 0) != 0;
        return super.hasRole(role, account);
    }

    /// @notice Every role is granted and revoked by the governor: `GOVERNOR_ROLE`.
    function getRoleAdmin(bytes32) public view virtual override returns (bytes32) {
        return GOVERNOR_ROLE;
    }

    /// @dev `registry.requireTransfer(operator, from, to)`, bubbling up the registry's custom error.
    function _requireTransfer(address operator, address from, address to) internal view {
        _checkInRegistry(IParticipantRegistry.requireTransfer.selector, operator, from, to, 3);
    }

    /// @dev `registry.requireActive(account)`, bubbling up the registry's custom error.
    function _requireActive(address account) internal view {
        _checkInRegistry(IParticipantRegistry.requireActive.selector, account, address(0), address(0), 1);
    }

    /// @dev `registry.requireActive(account)`, bubbling up the registry's custom error; returns the account's roles.
    function _activeRoles(address account) internal view returns (uint8 roles) {
        address target = address(_registry);
        bytes4 selector = IParticipantRegistry.requireActive.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), account)
            if iszero(staticcall(gas(), target, m, 0x24, 0, 0x20)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            roles := and(mload(0), 0xff)
        }
    }

    /// @dev One static call of a registry check taking `argc` addresses (1 to 3), reverting with the registry's
    /// error. It runs on every transfer, mint and role check, so it skips the high-level call's ABI encoding and
    /// code-size check (the constructor proved that the registry has code).
    function _checkInRegistry(bytes4 selector, address a, address b, address c, uint256 argc) private view {
        address target = address(_registry);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), a)
            mstore(add(m, 0x24), b)
            mstore(add(m, 0x44), c)
            if iszero(staticcall(gas(), target, m, add(0x04, mul(argc, 0x20)), 0, 0)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Reverts unless the sender may take governed actions (see `onlyGovernor`).
    function _checkGovernor() internal view {
        _checkRole(GOVERNOR_ROLE, msg.sender);
    }

    /// @dev `registry.<selector>(account, arg)` (a one-argument function ignores `arg`): its one-word answer (zero for
    /// a check that answers nothing), reverting with the registry's error. One static call without the high-level
    /// call's encoding and code-size check (the constructor proved that the registry has code), so that the access
    /// checks every part inherits fit in the market's code.
    function _askRegistry(bytes4 selector, address account, uint256 arg) private view returns (uint256 answer) {
        address target = address(_registry);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), account)
            mstore(add(m, 0x24), arg)
            mstore(0, 0)
            if iszero(staticcall(gas(), target, m, 0x44, 0, 0x20)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            answer := mload(0)
        }
    }

    /// @dev Reverts with the registry's `Registry__NotGovernor` (or, while there is no governor, the regulator check's
    /// errors) for the governor's role, `Registry__NotActive` / `Registry__MissingRole` for the admin role,
    /// and with `AccessControlUnauthorizedAccount` or `Registry__NotActive` for any other.
    function _checkRole(bytes32 role, address account) internal view virtual override {
        if (role == DEFAULT_ADMIN_ROLE) {
            _askRegistry(IParticipantRegistry.requireRole.selector, account, Roles.REGULATOR);
            return;
        }
        if (role == GOVERNOR_ROLE) {
            _askRegistry(IParticipantRegistry.requireGovernor.selector, account, 0);
            return;
        }
        // AccessControl's own record of the grant, not `hasRole` (whose two branches above are not this role's)
        if (!super.hasRole(role, account)) revert AccessControlUnauthorizedAccount(account, role);
        _requireActive(account);
    }
}
