// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155URIStorage} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155URIStorage.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICarbonAllowance} from "../interfaces/ICarbonAllowance.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {AllowanceId} from "./libraries/AllowanceId.sol";

/// @title CarbonAllowance
/// @notice The ERC-1155 carbon unit: allowances per compliance year and offsets per project and vintage.
/// Minted by issuers only, burned by surrender, voluntary retirement, the regulator's invalidation or an
/// issuer's claw-back, and
/// moved only between active registered participants (system contracts such as the market included).
contract CarbonAllowance is ICarbonAllowance, ERC1155URIStorage, RegistryAccessControl, Initializable {
    /// @notice May mint units: the allocation and offset-issuance contract(s).
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice May burn a holder's units as surrendered: the compliance contract.
    bytes32 public constant SURRENDER_ROLE = keccak256("SURRENDER_ROLE");
    /// @notice The most recipients `mintBatch` takes in one call.
    uint256 public constant MAX_BATCH = 200;

    uint8 private constant _BURN_SURRENDER = 0;
    uint8 private constant _BURN_RETIRE = 1;
    uint8 private constant _BURN_INVALIDATE = 2;
    uint8 private constant _BURN_CLAWBACK = 3;

    mapping(uint256 id => Totals) private _totals;
    Retirement[] private _retirements;

    /// @param registry_ the participant registry that decides who may hold and move units
    /// @param baseURI_ the prefix of every per-id metadata URI
    constructor(IParticipantRegistry registry_, string memory baseURI_) ERC1155("") RegistryAccessControl(registry_) {
        initialize(baseURI_);
    }

    /// @notice Sets what the constructor would: run by the constructor (a direct deployment, or the implementation
    /// of a proxy, which thereby can never be initialized again) and once by a proxy when it is deployed, whose
    /// storage the constructor never sees. The immutables (registry, tokens) are the code's.
    /// @param baseURI_ the prefix of every per-id metadata URI
    function initialize(string memory baseURI_) public initializer {
        _setBaseURI(baseURI_);
    }

    // ------------------------------------------------------------------ issuance and burning

    /// @inheritdoc ICarbonAllowance
    function mint(address to, uint256 id, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _issue(to, id, amount);
    }

    /// @inheritdoc ICarbonAllowance
    function mintBatch(address[] calldata recipients, uint256 id, uint256[] calldata amounts)
        external
        onlyRole(ISSUER_ROLE)
    {
        uint256 n = recipients.length;
        if (n == 0 || n != amounts.length || n > MAX_BATCH) revert Allowance__BadBatch(n, amounts.length, MAX_BATCH);
        for (uint256 i; i < n; ++i) {
            _issue(recipients[i], id, amounts[i]);
        }
    }

    /// @inheritdoc ICarbonAllowance
    function clawBack(address holder, uint256 id, uint256 amount, bytes32 reason) external onlyRole(ISSUER_ROLE) {
        _requireNotEscrow(holder);
        _burnCounted(holder, id, amount, _BURN_CLAWBACK);
        emit ClawedBack(holder, id, amount, reason, msg.sender);
    }

    /// @inheritdoc ICarbonAllowance
    function surrender(address holder, uint256 id, uint256 amount) external onlyRole(SURRENDER_ROLE) {
        _requireActive(holder);
        _burnCounted(holder, id, amount, _BURN_SURRENDER);
        emit Surrendered(holder, id, amount, msg.sender);
    }

    /// @inheritdoc ICarbonAllowance
    function retire(uint256 id, uint256 amount, address beneficiary, string calldata reason)
        external
        returns (uint256 retirementId)
    {
        _requireActive(msg.sender);
        _burnCounted(msg.sender, id, amount, _BURN_RETIRE);
        retirementId = _retirements.length;
        // amount fits uint96: _burnCounted bounded it by a balance that fits the uint48 counters
        _retirements.push(
            Retirement({
                holder: msg.sender,
                retiredAt: uint40(block.timestamp),
                beneficiary: beneficiary,
                amount: uint96(amount),
                id: id,
                reason: reason
            })
        );
        emit Retired(retirementId, msg.sender, beneficiary, id, amount, reason);
    }

    /// @inheritdoc ICarbonAllowance
    function invalidate(address holder, uint256 id, uint256 amount, bytes32 reasonHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _requireNotEscrow(holder);
        _burnCounted(holder, id, amount, _BURN_INVALIDATE);
        emit Invalidated(holder, id, amount, reasonHash, msg.sender);
    }

    // ------------------------------------------------------------------ metadata

    /// @inheritdoc ICarbonAllowance
    function setURI(uint256 id, string calldata tokenURI) external onlyGovernor {
        _setURI(id, tokenURI);
    }

    /// @inheritdoc ICarbonAllowance
    function setBaseURI(string calldata baseURI) external onlyGovernor {
        _setBaseURI(baseURI);
        emit BaseURIChanged(baseURI);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICarbonAllowance
    function totalSupply(uint256 id) external view returns (uint256) {
        Totals storage t = _totals[id];
        // minted bounds the sum of the four burn counters (each burn is bounded by a balance)
        unchecked {
            return uint256(t.minted) - t.surrendered - t.retired - t.invalidated - t.clawedBack;
        }
    }

    /// @inheritdoc ICarbonAllowance
    function totals(uint256 id) external view returns (Totals memory) {
        return _totals[id];
    }

    /// @inheritdoc ICarbonAllowance
    function retirement(uint256 retirementId) external view returns (Retirement memory) {
        if (retirementId >= _retirements.length) revert Allowance__UnknownRetirement(retirementId);
        return _retirements[retirementId];
    }

    /// @inheritdoc ICarbonAllowance
    function retirementCount() external view returns (uint256) {
        return _retirements.length;
    }

    /// @inheritdoc ICarbonAllowance
    function allowanceId(uint16 vintage) external pure returns (uint256) {
        return AllowanceId.allowance(vintage);
    }

    /// @inheritdoc ICarbonAllowance
    function offsetId(uint64 project, uint16 vintage) external pure returns (uint256) {
        return AllowanceId.offset(project, vintage);
    }

    /// @inheritdoc ICarbonAllowance
    function decodeId(uint256 id) external pure returns (uint8 kind, uint16 vintage, uint64 project) {
        return AllowanceId.decode(id);
    }

    /// @notice ERC-165: ERC-1155, its metadata URI extension and AccessControl.
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    function _issue(address to, uint256 id, uint256 amount) internal virtual {
        if (!AllowanceId.isValid(id)) revert Allowance__InvalidTokenId(id);
        _mint(to, id, amount, "");
        emit Issued(to, id, amount, msg.sender);
    }

    /// @dev Burns after checking the balance, so that a shortfall reverts with the holder, id and amounts.
    /// @dev Units a system contract holds are escrow: they back orders and proposals, so no one burns them.
    function _requireNotEscrow(address holder) internal view virtual {
        if (holder.code.length != 0 && registry().rolesOf(holder) & Roles.SYSTEM != 0) {
            revert Allowance__EscrowHolder(holder);
        }
    }

    function _burnCounted(address holder, uint256 id, uint256 amount, uint8 kind) internal virtual {
        if (amount == 0) revert Allowance__InvalidAmount(amount);
        uint256 balance = balanceOf(holder, id);
        if (balance < amount) revert Allowance__InsufficientBalance(holder, id, balance, amount);
        _burn(holder, id, amount);
        Totals storage t = _totals[id];
        // amount <= balance <= supply, and supply + the four burn counters == minted <= type(uint48).max
        unchecked {
            if (kind == _BURN_SURRENDER) t.surrendered += uint48(amount);
            else if (kind == _BURN_RETIRE) t.retired += uint48(amount);
            else if (kind == _BURN_INVALIDATE) t.invalidated += uint48(amount);
            else t.clawedBack += uint48(amount);
        }
    }

    /// @dev The permission check of every movement, and the minted counter of every issuance.
    /// Transfers need `from`, `to` and any operator other than `from` active in the registry; an issuance
    /// needs `to` active. Burns are checked by the function that burns (surrender, retire, invalidate).
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values)
        internal
        virtual
        override
    {
        if (to != address(0)) {
            if (from != address(0)) {
                _requireTransfer(_msgSender(), from, to);
            } else {
                _requireActive(to);
                _countMinted(ids, values);
            }
        }
        super._update(from, to, ids, values);
    }

    /// @dev Approvals need an active owner, and an active operator when granted.
    function _setApprovalForAll(address owner, address operator, bool approved) internal virtual override {
        _requireActive(owner);
        if (approved) _requireActive(operator);
        super._setApprovalForAll(owner, operator, approved);
    }

    function _countMinted(uint256[] memory ids, uint256[] memory values) private {
        for (uint256 i; i < ids.length; ++i) {
            uint256 value = values[i];
            Totals storage t = _totals[ids[i]];
            uint256 minted = uint256(t.minted) + value;
            if (value == 0 || minted > type(uint48).max) revert Allowance__InvalidAmount(value);
            t.minted = uint48(minted);
        }
    }
}
