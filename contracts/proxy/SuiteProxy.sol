// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

/// @title SuiteProxy
/// @notice The proxy of one part of an upgradeable suite (`deploy_suite(upgradeable=True)`): OpenZeppelin's
/// transparent proxy, which deploys its own ProxyAdmin. That admin's owner (the deployer, or the governance
/// timelock) alone may replace the code behind the proxy, and the admin cannot call through it.
contract SuiteProxy is TransparentUpgradeableProxy {
    /// @param implementation the part's code
    /// @param initialOwner the owner of the proxy's ProxyAdmin
    /// @param data the `initialize` call run on the proxy's storage, or nothing
    constructor(address implementation, address initialOwner, bytes memory data)
        payable
        TransparentUpgradeableProxy(implementation, initialOwner, data)
    {}
}
