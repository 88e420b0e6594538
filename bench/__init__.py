"""Benchmarks: ratios against a peer run side by side in the same process (see README)."""
