"""Offload Lab: the instrument that starts the demo stack, drives it and measures it."""
