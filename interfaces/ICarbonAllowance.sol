// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title The carbon allowance (ERC-1155)
/// @notice One token id per kind and vintage: allowances of a compliance year, and verified offsets per
/// project and vintage (see `AllowanceId`). One unit is one tonne of CO2-equivalent. Units are minted only by
/// issuers (allocation, offset issuance) and burned only by surrender, voluntary retirement or the
/// regulator's invalidation. Every transfer needs active registered participants on both sides.
interface ICarbonAllowance {
    /// @notice Running totals of one token id, packed in one slot (48 bits hold 2.8e14 t, thousands of years of
    /// world emissions). Supply = minted - surrendered - retired - invalidated - clawedBack.
    struct Totals {
        uint48 minted;
        uint48 surrendered;
        uint48 retired;
        uint48 invalidated;
        uint48 clawedBack;
    }

    /// @notice A voluntary retirement: units burned by `holder` on behalf of `beneficiary`, never to be used again.
    struct Retirement {
        address holder;
        uint40 retiredAt;
        address beneficiary;
        uint96 amount;
        uint256 id;
        string reason;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when a token id is not a well-formed allowance or offset id.
    error Allowance__InvalidTokenId(uint256 id);
    /// @notice Thrown when a vintage lies outside the supported years.
    error Allowance__InvalidVintage(uint16 vintage);
    /// @notice Thrown when an offset id is asked for with project number zero.
    error Allowance__InvalidProject(uint64 project);
    /// @notice Thrown when an amount is zero or does not fit the per-id counters (48 bits).
    error Allowance__InvalidAmount(uint256 amount);
    /// @notice Thrown when a holder burns (surrenders, retires, is invalidated) more than it holds.
    error Allowance__InsufficientBalance(address holder, uint256 id, uint256 balance, uint256 needed);
    /// @notice Thrown when batch arguments differ in length, are empty or exceed the maximum.
    error Allowance__BadBatch(uint256 recipients, uint256 amounts, uint256 max);
    /// @notice Thrown when a retirement record that does not exist is asked for.
    error Allowance__UnknownRetirement(uint256 retirementId);
    /// @notice Thrown when units held by a system contract (the market's or the desk's escrow) would be clawed back
    /// or invalidated: they back open orders and proposals; the regulator recovers those instead.
    error Allowance__EscrowHolder(address holder);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when units are issued (allocation or offset issuance) to `to`.
    event Issued(address indexed to, uint256 indexed id, uint256 amount, address indexed issuer);
    /// @notice Emitted when a holder's units are surrendered for compliance and burned.
    event Surrendered(address indexed holder, uint256 indexed id, uint256 amount, address indexed operator);
    /// @notice Emitted when units are retired voluntarily; `retirementId` indexes the stored record.
    event Retired(
        uint256 indexed retirementId,
        address indexed holder,
        address indexed beneficiary,
        uint256 id,
        uint256 amount,
        string reason
    );
    /// @notice Emitted when the regulator invalidates (burns) units found to be bad.
    event Invalidated(
        address indexed holder, uint256 indexed id, uint256 amount, bytes32 reasonHash, address indexed regulator
    );
    /// @notice Emitted when an issuer takes back units it over-issued (a true-up below the pre-allocation).
    event ClawedBack(address indexed holder, uint256 indexed id, uint256 amount, bytes32 reason, address indexed issuer);
    /// @notice Emitted when the base metadata URI changes.
    event BaseURIChanged(string baseURI);

    // ------------------------------------------------------------------ issuance and burning

    /// @notice Issue `amount` units of `id` to `to` (an active participant). Issuers only.
    function mint(address to, uint256 id, uint256 amount) external;

    /// @notice Issue units of one `id` to many recipients (at most `MAX_BATCH`). Issuers only.
    function mintBatch(address[] calldata recipients, uint256 id, uint256[] calldata amounts) external;

    /// @notice Burn `amount` of `holder`'s units of `id` that an issuer over-issued (whatever the holder's status).
    /// Issuers only: the true-up takes back allocation above the final figure this way.
    function clawBack(address holder, uint256 id, uint256 amount, bytes32 reason) external;

    /// @notice Burn `amount` of `holder`'s units of `id` as surrendered for compliance. Surrender role only.
    function surrender(address holder, uint256 id, uint256 amount) external;

    /// @notice Burn the caller's units for good on behalf of `beneficiary`, and keep a record.
    /// @return retirementId the index of the stored retirement record
    function retire(uint256 id, uint256 amount, address beneficiary, string calldata reason)
        external
        returns (uint256 retirementId);

    /// @notice Burn units of `holder` that the regulator found to be bad (whatever the holder's status). Regulator only.
    function invalidate(address holder, uint256 id, uint256 amount, bytes32 reasonHash) external;

    // ------------------------------------------------------------------ metadata

    /// @notice Set the metadata URI of one id. Regulator only.
    function setURI(uint256 id, string calldata tokenURI) external;

    /// @notice Set the base metadata URI prefixed to per-id URIs. Regulator only.
    function setBaseURI(string calldata baseURI) external;

    // ------------------------------------------------------------------ views

    /// @notice Units of `id` in existence.
    function totalSupply(uint256 id) external view returns (uint256);

    /// @notice Running totals (minted, surrendered, retired, invalidated, clawed back) of `id`.
    function totals(uint256 id) external view returns (Totals memory);

    /// @notice The retirement record `retirementId`.
    function retirement(uint256 retirementId) external view returns (Retirement memory);

    /// @notice How many retirements were recorded.
    function retirementCount() external view returns (uint256);

    /// @notice The id of compliance year `vintage`'s allowances.
    function allowanceId(uint16 vintage) external pure returns (uint256);

    /// @notice The id of offsets of `project` with vintage `vintage`.
    function offsetId(uint64 project, uint16 vintage) external pure returns (uint256);

    /// @notice Decode a token id into kind (1 allowance, 2 offset), vintage and project.
    function decodeId(uint256 id) external pure returns (uint8 kind, uint16 vintage, uint64 project);
}
