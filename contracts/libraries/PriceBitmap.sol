// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title PriceBitmap
/// @notice A set of 24-bit price ticks kept as a three-level bitmap (a root word over 256 middle words over
/// 65,536 leaf words), so that the next occupied tick above or below any tick is found in at most six reads,
/// however far away it is. Many sets share one mapping, each under its own `base` key.
library PriceBitmap {
    /// @notice Returned by the searches when no tick qualifies.
    uint256 internal constant NONE = type(uint256).max;

    function _key(uint256 base, uint256 level, uint256 index) private pure returns (uint256) {
        return (base << 32) | (level << 24) | index;
    }

    /// @notice Add `tick` to the set.
    function set(mapping(uint256 => uint256) storage map, uint256 base, uint24 tick) internal {
        uint256 leaf = _key(base, 0, tick >> 8);
        uint256 word = map[leaf];
        map[leaf] = word | (1 << (tick & 0xff));
        if (word != 0) return;
        uint256 mid = _key(base, 1, tick >> 16);
        word = map[mid];
        map[mid] = word | (1 << ((tick >> 8) & 0xff));
        if (word != 0) return;
        uint256 root = _key(base, 2, 0);
        map[root] |= 1 << (tick >> 16);
    }

    /// @notice Remove `tick` from the set.
    function unset(mapping(uint256 => uint256) storage map, uint256 base, uint24 tick) internal {
        uint256 leaf = _key(base, 0, tick >> 8);
        uint256 word = map[leaf] & ~(1 << (tick & 0xff));
        map[leaf] = word;
        if (word != 0) return;
        uint256 mid = _key(base, 1, tick >> 16);
        word = map[mid] & ~(1 << ((tick >> 8) & 0xff));
        map[mid] = word;
        if (word != 0) return;
        uint256 root = _key(base, 2, 0);
        map[root] &= ~(1 << (tick >> 16));
    }

    /// @notice The smallest tick of the set that is `>= tick`, or `NONE`.
    function atOrAbove(mapping(uint256 => uint256) storage map, uint256 base, uint256 tick)
        internal
        view
        returns (uint256)
    {
        if (tick > type(uint24).max) return NONE;
        uint256 word = map[_key(base, 0, tick >> 8)] & (type(uint256).max << (tick & 0xff));
        if (word != 0) return (tick & ~uint256(0xff)) | _lowest(word);
        uint256 leafIndex = tick >> 8;
        // bits strictly above this leaf inside its middle word (a shift by 256 would yield 0, as wanted)
        word = map[_key(base, 1, tick >> 16)] & _above(leafIndex & 0xff);
        if (word == 0) {
            word = map[_key(base, 2, 0)] & _above(tick >> 16);
            if (word == 0) return NONE;
            uint256 midIndex = _lowest(word);
            leafIndex = (midIndex << 8) | _lowest(map[_key(base, 1, midIndex)]);
        } else {
            leafIndex = (leafIndex & ~uint256(0xff)) | _lowest(word);
        }
        return (leafIndex << 8) | _lowest(map[_key(base, 0, leafIndex)]);
    }

    /// @notice The largest tick of the set that is `<= tick`, or `NONE`; `tick` is a tick (at most 2^24 - 1): the
    /// book asks for the next level below one it holds.
    function atOrBelow(mapping(uint256 => uint256) storage map, uint256 base, uint256 tick)
        internal
        view
        returns (uint256)
    {
        uint256 word = map[_key(base, 0, tick >> 8)] & _upTo(tick & 0xff);
        if (word != 0) return (tick & ~uint256(0xff)) | Math.log2(word);
        uint256 leafIndex = tick >> 8;
        word = map[_key(base, 1, tick >> 16)] & _below(leafIndex & 0xff);
        if (word == 0) {
            word = map[_key(base, 2, 0)] & _below(tick >> 16);
            if (word == 0) return NONE;
            uint256 midIndex = Math.log2(word);
            leafIndex = (midIndex << 8) | Math.log2(map[_key(base, 1, midIndex)]);
        } else {
            leafIndex = (leafIndex & ~uint256(0xff)) | Math.log2(word);
        }
        return (leafIndex << 8) | Math.log2(map[_key(base, 0, leafIndex)]);
    }

    /// @dev Index of the lowest set bit of a non-zero word.
    function _lowest(uint256 word) private pure returns (uint256) {
        // two's complement isolates the lowest set bit; word != 0, so the negation cannot be misread
        unchecked {
            return Math.log2(word & (~word + 1));
        }
    }

    /// @dev Bits strictly above `bit` (0..255).
    function _above(uint256 bit) private pure returns (uint256) {
        return bit == 255 ? 0 : type(uint256).max << (bit + 1);
    }

    /// @dev Bits strictly below `bit` (0..255).
    function _below(uint256 bit) private pure returns (uint256) {
        return (uint256(1) << bit) - 1;
    }

    /// @dev Bits at or below `bit` (0..255).
    function _upTo(uint256 bit) private pure returns (uint256) {
        return bit == 255 ? type(uint256).max : (uint256(1) << (bit + 1)) - 1;
    }
}
