"""Relay boards that switch DUT supplies and press buttons: the contract and its backends."""

from harness.drivers.relay.base import Relay

__all__ = ["Relay"]
