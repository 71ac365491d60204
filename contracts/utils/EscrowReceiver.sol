// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";

/// @title EscrowReceiver
/// @notice An ERC-1155 receiver for a contract that holds units only in escrow it pulls itself: it accepts single
/// transfers of its escrowed token that it initiated, and nothing else (no gifts, no batches). Each contract
/// reverts with its own domain error through `_rejectTokens`.
abstract contract EscrowReceiver is IERC1155Receiver {
    /// @notice Accepts units of the escrowed token only when this contract itself pulls them.
    function onERC1155Received(address operator, address, uint256, uint256, bytes calldata)
        external
        view
        returns (bytes4)
    {
        if (operator != address(this) || msg.sender != _escrowedToken()) _rejectTokens(operator);
        return IERC1155Receiver.onERC1155Received.selector;
    }

    /// @notice Batches are never pulled, so never accepted.
    function onERC1155BatchReceived(address operator, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        _rejectTokens(operator);
        return IERC1155Receiver.onERC1155BatchReceived.selector; // not reached: `_rejectTokens` reverts
    }

    /// @dev The ERC-1155 token this contract escrows.
    function _escrowedToken() internal view virtual returns (address);

    /// @dev Revert with the contract's error for tokens it did not ask for (must revert).
    function _rejectTokens(address operator) internal pure virtual;
}
