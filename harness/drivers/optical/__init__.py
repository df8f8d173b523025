"""Optical probes (IR heads): the IEC 62056-21 client contract and its backends."""
