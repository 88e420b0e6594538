"""Benchmarks: plain scripts (``python -m bench.<name>``) printing medians and ratios against
a peer measured in the same run. Never timed tests."""
