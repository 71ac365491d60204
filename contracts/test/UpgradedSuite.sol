// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ParticipantRegistry} from "../ParticipantRegistry.sol";
import {CarbonAllowance} from "../CarbonAllowance.sol";
import {CreditToken} from "../CreditToken.sol";
import {SettlementToken} from "../SettlementToken.sol";
import {Compliance} from "../Compliance.sol";
import {Market} from "../Market.sol";
import {BlockTradeDesk} from "../BlockTradeDesk.sol";
import {IParticipantRegistry} from "../../interfaces/IParticipantRegistry.sol";
import {ICarbonAllowance} from "../../interfaces/ICarbonAllowance.sol";
import {ICreditToken} from "../../interfaces/ICreditToken.sol";
import {IMarket} from "../../interfaces/IMarket.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";

// The next version of the suite's upgradeable parts, for the upgrade tests: the same code with a `version()` (so a
// test sees which code answers), and in the registry a variable appended after the existing ones (the one change of
// layout an upgrade may make).

contract ParticipantRegistryV2 is ParticipantRegistry {
    /// @notice A note the regulator keeps, new in this version: stored after every variable of the first.
    string private _note;

    constructor(address initialAdmin) ParticipantRegistry(initialAdmin) {}

    function version() external pure returns (uint256) {
        return 2;
    }

    function note() external view returns (string memory) {
        return _note;
    }

    function setNote(string calldata note_) external {
        _note = note_;
    }
}

contract CarbonAllowanceV2 is CarbonAllowance {
    constructor(IParticipantRegistry registry_, string memory baseURI_) CarbonAllowance(registry_, baseURI_) {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

contract CreditTokenV2 is CreditToken {
    constructor(IParticipantRegistry registry_, uint256[] memory thresholds) CreditToken(registry_, thresholds) {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

contract SettlementTokenV2 is SettlementToken {
    constructor(IParticipantRegistry registry_, string memory name_, string memory symbol_)
        SettlementToken(registry_, name_, symbol_)
    {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

contract ComplianceV2 is Compliance {
    constructor(IParticipantRegistry registry_, ICarbonAllowance allowance_, ICreditToken credit_)
        Compliance(registry_, allowance_, credit_)
    {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

contract MarketV2 is Market {
    constructor(IParticipantRegistry registry_, IERC1155 allowance_, IERC20 money_, ICreditToken credit_, address fees)
        Market(registry_, allowance_, money_, credit_, fees)
    {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

contract BlockTradeDeskV2 is BlockTradeDesk {
    constructor(IParticipantRegistry registry_, IMarket market_, IERC1155 allowance_, IERC20 money_, ICreditToken credit_)
        BlockTradeDesk(registry_, market_, allowance_, money_, credit_)
    {}

    function version() external pure returns (uint256) {
        return 2;
    }
}
