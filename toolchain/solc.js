#!/usr/bin/env node
// A `solc`-compatible front over solc-js, enough for py-solc-x and brownie:
//   solc --version                       -> "Version: <long version>"
//   solc --standard-json [--allow-paths P,Q] [--base-path B] < input.json > output.json
// Imports are read from disk relative to the working directory, the base path or an allowed path.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

function optionValue(args, name) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : null;
}

function searchRoots(args) {
  const roots = [process.cwd()];
  const base = optionValue(args, "--base-path");
  if (base) roots.push(path.resolve(base));
  const allowed = optionValue(args, "--allow-paths");
  if (allowed) for (const p of allowed.split(",")) if (p) roots.push(path.resolve(p));
  return roots;
}

function importReader(roots) {
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.join(root, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found: ${importPath}` };
  };
}

function main(args) {
  if (args.includes("--version")) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (args.includes("--standard-json")) {
    const input = fs.readFileSync(0, "utf8");
    process.stdout.write(solc.compile(input, { import: importReader(searchRoots(args)) }));
    return 0;
  }
  process.stderr.write("solc.js: only --version and --standard-json are supported\n");
  return 2;
}

process.exitCode = main(process.argv.slice(2));
