"""Scripted market operations from a declarative file (YAML with CSV for bulk lists): checked in full, simulated
on a fork of the chain, then run with a journal that makes a re-run continue where a crash stopped it."""

from carbon_market.ops.node import OpsError, Reverted
from carbon_market.ops.runner import Fault, InjectedCrash, Outcome, StepFailed, operate
from carbon_market.ops.spec import KINDS, Plan, SpecError, load

__all__ = ["KINDS", "Fault", "InjectedCrash", "OpsError", "Outcome", "Plan", "Reverted", "SpecError", "StepFailed",
           "load", "operate"]
