"""Programmable power supplies: the contract and its backends."""
