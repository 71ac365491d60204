// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ISupplyReserve
/// @notice The supply side of the regulator's instruments. A supply reserve after the EU's Market Stability Reserve:
/// once per period anyone triggers the count of the allowances in circulation from the allowance's own counters;
/// above the upper threshold a share of them is withheld from the next primary auctions, below the lower threshold
/// a volume is released to them. A cost containment reserve after California's: allowances set aside, sold to
/// enterprises at fixed trigger prices (tiers) once the secondary market's reference price reaches them, bounded per
/// period. It also keeps what primary auctions leave unsold. Allowances in the reserves are not minted: they are
/// minted when sold (by the auction or by a containment sale).
interface ISupplyReserve {
    // ------------------------------------------------------------------ types

    /// @notice The supply reserve's rules (after the EU Market Stability Reserve): once per period, the allowances
    /// in circulation (minted minus surrendered, retired, invalidated and clawed back, over `vintages` vintages from
    /// `firstVintage`; the reserves hold no minted units) are compared with the thresholds.
    struct SupplyRules {
        uint40 origin; // start of period 0
        uint32 periodLength; // seconds
        uint16 firstVintage;
        uint16 vintages; // how many vintages count (at most MAX_VINTAGES)
        uint48 upperThreshold; // above it, `intakeBps` of the circulation is withheld from the next auctions
        uint48 lowerThreshold; // below it, `releaseVolume` (at most the reserve) is added to the next auctions
        uint16 intakeBps;
        uint48 releaseVolume;
    }

    /// @notice The supply reserve's counters: what it holds, what the next auctions still have to give it, what
    /// they will release from it, and what earlier auctions left unsold for the next.
    struct Supply {
        uint48 reserve;
        uint48 toWithhold;
        uint48 toRelease;
        uint48 carried;
        uint32 lastPeriod; // the last period computed, plus one (0: none yet)
    }

    /// @notice A tier of the cost containment reserve: what it still holds, its trigger price, and the most it
    /// sells per period.
    struct Tier {
        uint64 triggerPrice;
        uint48 perPeriod;
        uint48 remaining;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when a rule or parameter is out of range; `name` says which.
    error Reserve__BadRules(bytes32 name, uint256 value);
    /// @notice Thrown when somebody other than the primary auction draws or returns auction volume.
    error Reserve__NotAuction(address caller);
    /// @notice Thrown when the primary auction is set a second time.
    error Reserve__AuctionSet(address auction);
    /// @notice Thrown when an offer would auction nothing (everything withheld for the supply reserve).
    error Reserve__NothingToOffer(uint256 requested, uint256 withheld);
    /// @notice Thrown when the supply reserve is computed before its rules are set.
    error Reserve__NoRules();
    /// @notice Thrown when a period's computation is asked for again, or before the period began.
    error Reserve__PeriodDone(uint256 period, uint256 next);
    /// @notice Thrown for a containment tier that does not exist.
    error Reserve__UnknownTier(uint256 tier);
    /// @notice Thrown when the secondary market's reference price is below the tier's trigger.
    error Reserve__BelowTrigger(uint256 tier, uint256 price, uint256 trigger);
    /// @notice Thrown when a purchase exceeds what the tier sells this period, or what it holds.
    error Reserve__TierExhausted(uint256 tier, uint256 quantity, uint256 available);
    /// @notice Thrown when somebody other than an enterprise buys from the containment reserve.
    error Reserve__NotEnterprise(address account);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the primary auction is connected.
    event AuctionSet(address auction);
    /// @notice Emitted when the supply reserve's rules change.
    event SupplyRulesChanged(SupplyRules rules);
    /// @notice Emitted when a period's circulation is computed: `intake` withheld from the next auctions, or
    /// `release` added to them.
    event SupplyComputed(uint32 indexed period, uint256 circulation, uint48 intake, uint48 release, uint48 reserve);
    /// @notice Emitted when the containment reserve's tiers are set.
    event ContainmentTiersChanged(uint32 referenceInstrument, Tier[] tiers);
    /// @notice Emitted when allowances are sold from the containment reserve.
    event ReserveSold(
        address indexed buyer, uint8 indexed tier, uint16 indexed vintage, uint48 quantity, uint256 price, uint256 referencePrice
    );

    // ------------------------------------------------------------------ functions

    /// @notice Connect the primary auction (regulator, once).
    function setAuction(address auction) external;

    /// @notice The volume of the next auction (the primary auction only): `requested` plus what earlier auctions
    /// left unsold and what the reserve releases, minus what it withholds.
    function draw(uint48 requested) external returns (uint48 volume, uint48 withheld, uint48 released, uint48 carried);

    /// @notice Keep what an auction left unsold (the primary auction only): in the reserve, or for the next auction.
    function keepUnsold(uint48 unsold, bool toReserve) external;

    /// @notice Set the supply reserve's rules (regulator); the periods already computed stay computed.
    function setSupplyRules(SupplyRules calldata rules) external;

    /// @notice Compute the current period's circulation and move allowances into or out of the supply reserve
    /// (anyone, once per period). Returns the circulation.
    function computeSupply() external returns (uint256 circulation);

    /// @notice Set the cost containment reserve's tiers and the instrument whose reference price triggers them
    /// (regulator).
    function setContainment(uint32 referenceInstrument, Tier[] calldata tiers) external;

    /// @notice Buy `quantity` allowances of `vintage` from containment tier `tier` at its trigger price (active
    /// enterprises, once the secondary reference price reaches the trigger).
    function buyFromReserve(uint8 tier, uint16 vintage, uint48 quantity) external;

    // ------------------------------------------------------------------ views

    /// @notice The primary auction.
    function primaryAuction() external view returns (address);

    /// @notice The supply reserve's rules.
    function supplyRules() external view returns (SupplyRules memory);

    /// @notice The supply reserve's counters.
    function supply() external view returns (Supply memory);

    /// @notice The allowances in circulation now, as `computeSupply` counts them.
    function circulation() external view returns (uint256);

    /// @notice The containment reserve's tiers.
    function tiers() external view returns (Tier[] memory);

    /// @notice Units a tier sold in a period.
    function tierSold(uint8 tier, uint32 period) external view returns (uint48);

    /// @notice The current supply period (0 before the rules' origin or without rules).
    function currentPeriod() external view returns (uint32);
}
