// Hardhat's node (EDR, an EVM engine that shares no code with anvil's) as the project's second node
// implementation: the live-network tests start it with `hardhat node --config toolchain/hardhat.config.js`.
// A testnet-like chain: a block every second whatever arrives (no mining on arrival), EIP-1559 fees from a base fee
// of 1 gwei that moves with every block, the cancun rules the contracts are compiled for. The accounts are the
// public test mnemonic's (the same keys as anvil's); the tests reach the node through a proxy that refuses
// eth_sendTransaction, so every transaction is signed with a key, as on a testnet.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.CARBON_MARKET_CHAIN_ID || 31338),
      hardfork: "cancun",
      initialBaseFeePerGas: 1000000000,
      blockGasLimit: 30000000,
      mining: { auto: false, interval: Number(process.env.CARBON_MARKET_BLOCK_MS || 1000) },
      accounts: { mnemonic: "test test test test test test test test test test test junk", count: 10 },
    },
  },
};
