// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICarbonAllowance} from "../../interfaces/ICarbonAllowance.sol";

/// @title Token ids of the carbon allowance
/// @notice One ERC-1155 id per kind and vintage (and, for offsets, per project), laid out so that the id
/// read in hexadecimal shows what it is:
///
///     bits 255..248  kind      (1 = allowance of a compliance year, 2 = verified offset)
///     bits 247..232  vintage   (the compliance year, or the year the reductions took place)
///     bits 231..64   zero
///     bits  63..0    project   (0 for allowances; the offset project's number otherwise)
///
/// e.g. the 2026 allowance is 0x0107ea00...00 and offsets of project 7, vintage 2025 are 0x0207e900...07.
/// @dev `carbon_market/ids.py` encodes and decodes the same way; a test proves that they agree.
library AllowanceId {
    uint8 internal constant KIND_ALLOWANCE = 1;
    uint8 internal constant KIND_OFFSET = 2;
    uint16 internal constant MIN_VINTAGE = 2000;
    uint16 internal constant MAX_VINTAGE = 2200;

    uint256 private constant _KIND_SHIFT = 248;
    uint256 private constant _VINTAGE_SHIFT = 232;
    uint256 private constant _PROJECT_MASK = type(uint64).max;
    /// @dev The bits between the vintage and the project, which a valid id keeps at zero.
    uint256 private constant _RESERVED_MASK = ((uint256(1) << _VINTAGE_SHIFT) - 1) ^ _PROJECT_MASK;

    /// @notice The id of the allowances of compliance year `vintage`.
    function allowance(uint16 vintage) internal pure returns (uint256 id) {
        _checkVintage(vintage);
        id = (uint256(KIND_ALLOWANCE) << _KIND_SHIFT) | (uint256(vintage) << _VINTAGE_SHIFT);
    }

    /// @notice The id of the offsets of `project` with reductions of year `vintage`.
    function offset(uint64 project, uint16 vintage) internal pure returns (uint256 id) {
        _checkVintage(vintage);
        if (project == 0) revert ICarbonAllowance.Allowance__InvalidProject(project);
        id = (uint256(KIND_OFFSET) << _KIND_SHIFT) | (uint256(vintage) << _VINTAGE_SHIFT) | project;
    }

    /// @notice Split `id` into its fields; reverts with `Allowance__InvalidTokenId` unless the id is well formed.
    function decode(uint256 id) internal pure returns (uint8 kind, uint16 vintage, uint64 project) {
        bool valid;
        (valid, kind, vintage, project) = tryDecode(id);
        if (!valid) revert ICarbonAllowance.Allowance__InvalidTokenId(id);
    }

    /// @notice Whether `id` is a well-formed allowance or offset id.
    function isValid(uint256 id) internal pure returns (bool valid) {
        (valid,,,) = tryDecode(id);
    }

    /// @notice Split `id` into its fields and say whether it is well formed (the fields mean nothing if not).
    function tryDecode(uint256 id) internal pure returns (bool valid, uint8 kind, uint16 vintage, uint64 project) {
        kind = uint8(id >> _KIND_SHIFT);
        vintage = uint16(id >> _VINTAGE_SHIFT);
        project = uint64(id & _PROJECT_MASK);
        if (id & _RESERVED_MASK != 0 || vintage < MIN_VINTAGE || vintage > MAX_VINTAGE) return (false, kind, vintage, project);
        if (kind == KIND_ALLOWANCE) valid = project == 0;
        else if (kind == KIND_OFFSET) valid = project != 0;
    }


    function _checkVintage(uint16 vintage) private pure {
        if (vintage < MIN_VINTAGE || vintage > MAX_VINTAGE) {
            revert ICarbonAllowance.Allowance__InvalidVintage(vintage);
        }
    }
}
