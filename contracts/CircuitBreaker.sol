// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {RegistryAccessControl} from "./access/RegistryAccessControl.sol";
import {MarketMath} from "./libraries/MarketIds.sol";

/// @title CircuitBreaker
/// @notice The volatility interruptions of `ICircuitBreaker`. It holds the market's exchange role, which lets it
/// open and close an instrument's call phase, and nothing else.
contract CircuitBreaker is ICircuitBreaker, RegistryAccessControl, Initializable {
    uint256 private constant _BPS = 10_000;

    IMarket private immutable _market;

    mapping(uint32 instrument => Guard) private _guards;
    mapping(uint32 instrument => Watch) private _watches;

    /// @param registry_ the participant registry
    /// @param market_ the market whose instruments this breaker halts
    constructor(IParticipantRegistry registry_, IMarket market_) RegistryAccessControl(registry_) {
        _market = market_;
        initialize();
    }

    /// @notice Marks the part initialized (it has nothing else to set): run by the constructor (a direct deployment,
    /// or the implementation of a proxy) and once by a proxy when it is deployed, so no proxy of the suite is ever
    /// left uninitialized.
    function initialize() public initializer {}

    /// @inheritdoc ICircuitBreaker
    function setGuard(uint32 instrument, Guard calldata g) external onlyGovernor {
        // slither-disable-next-line unused-return (the call is the check: it reverts for an unknown instrument)
        _market.instrument(instrument);
        if (g.moveBps >= _BPS) revert Breaker__BadGuard("moveBps", g.moveBps);
        if (g.moveBps != 0 && g.window == 0) revert Breaker__BadGuard("window", 0);
        if (g.coolingOff == 0) revert Breaker__BadGuard("coolingOff", 0);
        _guards[instrument] = g;
        emit GuardSet(instrument, g);
    }

    /// @inheritdoc ICircuitBreaker
    function observe(uint32 instrument) external returns (bool) {
        Guard memory g = _guards[instrument];
        if (g.coolingOff == 0) revert Breaker__NoGuard(instrument);
        Watch memory w = _watches[instrument];
        IMarket.Instrument memory ins = _market.instrument(instrument);
        if (w.haltedUntil != 0 || ins.phase != IMarket.Phase.Continuous) return false;
        uint24 last = ins.lastTick;
        uint32 today = MarketMath.tradingDay(block.timestamp);
        if (w.day != today) (w.day, w.hits) = (today, 0);
        (uint24 low, uint24 high) =
            MarketMath.band(MarketMath.referenceTick(ins, today), _market.params().bandBps);
        // hits stop at `limitHits` (the instrument halts there), so the counter never passes 255
        if (g.limitHits != 0 && (last <= low || last >= high) && last != w.lastSeenTick) ++w.hits;
        w.lastSeenTick = last;
        // slither-disable-next-line incorrect-equality (0 marks "no anchor yet", not a time compared with the clock)
        if (w.anchorTime == 0 || block.timestamp > uint256(w.anchorTime) + g.window) {
            (w.anchorTick, w.anchorTime) = (last, uint40(block.timestamp));
        }
        bool hitLimit = g.limitHits != 0 && w.hits >= g.limitHits;
        bool moved = g.moveBps != 0 && _moved(w.anchorTick, last, g.moveBps);
        if (!hitLimit && !moved) {
            _watches[instrument] = w;
            return false;
        }
        w.haltedUntil = uint40(block.timestamp + g.coolingOff);
        _watches[instrument] = w;
        emit Halted(instrument, hitLimit ? Reason.LimitHits : Reason.PriceMove, last, w.anchorTick, w.hits, w.haltedUntil);
        _market.openCall(instrument);
        return true;
    }

    /// @inheritdoc ICircuitBreaker
    function resume(uint32 instrument, uint256 maxSteps) external {
        Watch storage w = _watches[instrument];
        uint40 until = w.haltedUntil;
        if (until == 0 || block.timestamp < until) revert Breaker__NotHalted(instrument, until, block.timestamp);
        w.haltedUntil = 0;
        w.anchorTime = 0; // the reopening price is the next anchor
        w.hits = 0;
        emit Resumed(instrument, until, msg.sender);
        _market.closeCall(instrument, maxSteps);
    }

    /// @inheritdoc ICircuitBreaker
    function guard(uint32 instrument) external view returns (Guard memory) {
        return _guards[instrument];
    }

    /// @inheritdoc ICircuitBreaker
    function watch(uint32 instrument) external view returns (Watch memory) {
        return _watches[instrument];
    }

    /// @dev Whether `last` lies more than `moveBps` away from `anchor` (prices are positive ticks).
    function _moved(uint24 anchor, uint24 last, uint16 moveBps) internal pure returns (bool) {
        uint256 diff = last > anchor ? last - anchor : anchor - last;
        return diff * _BPS > uint256(anchor) * moveBps;
    }
}
