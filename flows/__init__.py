"""Prefect flows: thin adapters over `intel.pipeline`."""
