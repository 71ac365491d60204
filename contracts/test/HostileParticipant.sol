// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title HostileParticipant
/// @notice TEST ONLY. A participant that is a contract and misbehaves when it receives ERC-1155 units: it refuses
/// them, burns all the gas it is given, answers with the wrong selector, or re-enters a contract of the market with
/// a call set beforehand (recording whether that call went through and what it returned). Its owner (a test
/// account) acts through `execute`, so it can hold roles, place orders, report and surrender like anyone.
contract HostileParticipant is IERC1155Receiver {
    /// @notice What the receiver hooks do.
    enum Mode {
        Accept,
        Refuse,
        BurnGas,
        WrongSelector,
        Reenter
    }

    /// @notice Thrown when someone other than the owner calls `execute` or configures the contract.
    error Hostile__NotOwner(address caller);
    /// @notice Thrown by the hooks in `Refuse` mode.
    error Hostile__Refused(address operator, address from, uint256 id, uint256 amount);
    /// @notice Thrown when a call made through `execute` reverts; carries its revert data.
    error Hostile__CallFailed(address target, bytes reason);

    /// @notice Emitted when a re-entering call was attempted from a hook.
    event ReentryAttempted(address indexed target, bool succeeded, bytes returned);

    address public immutable owner;
    Mode public mode;
    address public reentryTarget;
    bytes public reentryData;
    /// @notice How many re-entries were attempted, and how many went through.
    uint256 public reentries;
    uint256 public reentriesSucceeded;
    /// @notice The revert (or return) data of the last re-entry.
    bytes public lastReentryResult;
    /// @notice Units accepted by the hooks, in all.
    uint256 public unitsReceived;

    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert Hostile__NotOwner(msg.sender);
        _;
    }

    /// @notice Set what the hooks do, and for `Reenter` the call they make.
    function configure(Mode mode_, address target, bytes calldata data) external onlyOwner {
        mode = mode_;
        reentryTarget = target;
        reentryData = data;
    }

    /// @notice Make a call as this contract; bubbles its revert as `Hostile__CallFailed`.
    function execute(address target, bytes calldata data) external onlyOwner returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) revert Hostile__CallFailed(target, ret);
        return ret;
    }

    /// @inheritdoc IERC1155Receiver
    function onERC1155Received(address operator, address from, uint256 id, uint256 amount, bytes calldata)
        external
        returns (bytes4)
    {
        return _hook(operator, from, id, amount, IERC1155Receiver.onERC1155Received.selector);
    }

    /// @inheritdoc IERC1155Receiver
    function onERC1155BatchReceived(
        address operator,
        address from,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        bytes calldata
    ) external returns (bytes4) {
        uint256 total = 0;
        for (uint256 i; i < amounts.length; ++i) {
            total += amounts[i];
        }
        return _hook(operator, from, ids.length == 0 ? 0 : ids[0], total, IERC1155Receiver.onERC1155BatchReceived.selector);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    function _hook(address operator, address from, uint256 id, uint256 amount, bytes4 selector)
        private
        returns (bytes4)
    {
        Mode m = mode;
        if (m == Mode.Refuse) revert Hostile__Refused(operator, from, id, amount);
        if (m == Mode.BurnGas) {
            // write fresh storage slots until the gas runs out (22,100 gas a step: few steps to trace); the caller
            // gets back only what the 63/64 rule kept for it
            uint256 slot = uint256(keccak256("hostile.burn"));
            while (true) {
                assembly ("memory-safe") {
                    sstore(slot, 1)
                }
                unchecked {
                    ++slot;
                }
            }
        }
        if (m == Mode.WrongSelector) return bytes4(0xdeadbeef);
        if (m == Mode.Reenter) {
            ++reentries;
            (bool ok, bytes memory ret) = reentryTarget.call(reentryData);
            if (ok) ++reentriesSucceeded;
            lastReentryResult = ret;
            emit ReentryAttempted(reentryTarget, ok, ret);
        }
        unitsReceived += amount;
        return selector;
    }
}
