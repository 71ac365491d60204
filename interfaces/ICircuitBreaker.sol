// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICircuitBreaker
/// @notice Volatility interruptions of the market's continuous trading. An instrument halts for a cooling-off period
/// when its last price has reached the day's price limit a set number of times, or has moved more than a set share
/// within a window. A halt switches the instrument to the market's call phase, so orders collect without matching,
/// and the cooling-off ends with a call auction that sets the reopening price (as Xetra's volatility interruptions
/// and the Shanghai and Shenzhen exchanges' temporary suspensions do). Anyone may look at an instrument (a keeper
/// does after every block) and anyone may end a halt once its cooling-off is over.
interface ICircuitBreaker {
    /// @notice Why an instrument halted.
    enum Reason {
        LimitHits,
        PriceMove
    }

    /// @notice The rules of one instrument (0 in a field turns that trigger off).
    struct Guard {
        uint8 limitHits; // arrivals of the last price at the day's limit that halt the instrument
        uint16 moveBps; // a move of more than this within `window` seconds halts it
        uint32 window;
        uint32 coolingOff; // seconds the halt lasts before it may be ended
    }

    /// @notice What the breaker knows of one instrument.
    struct Watch {
        uint24 anchorTick; // the price the move is measured from
        uint40 anchorTime; // when it was seen (0: none)
        uint24 lastSeenTick; // the last price seen
        uint8 hits; // arrivals at the limit seen on `day`
        uint32 day;
        uint40 haltedUntil; // 0 when trading
    }

    /// @notice Thrown when a guard's values are out of range; `name` says which.
    error Breaker__BadGuard(bytes32 name, uint256 value);
    /// @notice Thrown when an instrument without a guard is looked at.
    error Breaker__NoGuard(uint32 instrument);
    /// @notice Thrown when a halt is ended before its cooling-off is over, or when the instrument is not halted.
    error Breaker__NotHalted(uint32 instrument, uint256 haltedUntil, uint256 now);

    /// @notice Emitted when an instrument's guard is set.
    event GuardSet(uint32 indexed instrument, Guard guard);
    /// @notice Emitted when an instrument halts: its last price, the anchor of the move, the limit hits seen.
    event Halted(uint32 indexed instrument, Reason reason, uint24 lastTick, uint24 anchorTick, uint8 hits, uint40 until);
    /// @notice Emitted when a halt ends and the reopening call auction is closed.
    event Resumed(uint32 indexed instrument, uint40 haltedUntil, address by);

    /// @notice Set an instrument's guard (regulator).
    function setGuard(uint32 instrument, Guard calldata guard) external;

    /// @notice Look at an instrument's last price and halt it when a trigger is met (anyone). Returns whether it
    /// halted now.
    function observe(uint32 instrument) external returns (bool halted);

    /// @notice End a halt whose cooling-off is over: close the reopening call, clearing it in at most `maxSteps`
    /// (anyone; the market's `advanceClearing` finishes a large one).
    function resume(uint32 instrument, uint256 maxSteps) external;

    /// @notice An instrument's guard.
    function guard(uint32 instrument) external view returns (Guard memory);

    /// @notice What the breaker knows of an instrument.
    function watch(uint32 instrument) external view returns (Watch memory);
}
