// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Participant role flags
/// @notice The roles of the participant registry, as bits of one `uint8` mask so that a participant may
/// hold several (an enterprise that also develops offset projects) and one storage read answers a check.
/// @dev `carbon_market/roles.py` mirrors these values; a test proves that they agree.
library Roles {
    uint8 internal constant REGULATOR = 1 << 0;
    uint8 internal constant VERIFIER = 1 << 1;
    uint8 internal constant ENTERPRISE = 1 << 2;
    uint8 internal constant INVESTOR = 1 << 3;
    uint8 internal constant OFFSET_DEVELOPER = 1 << 4;
    uint8 internal constant EXCHANGE = 1 << 5;
    /// @dev A registered system contract (market, compliance): may hold units and money in escrow.
    uint8 internal constant SYSTEM = 1 << 6;
    /// @dev Every known role; a mask with any other bit is invalid.
    uint8 internal constant ALL = (1 << 7) - 1;
}
