"""Benchmarks run by `make bench`; each prints its figures and the command that made them."""
