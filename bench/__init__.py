"""Load and scale benchmarks behind ``make bench`` (``python -m bench``).

Every figure is a ratio of two measurements taken in the same run, because the machines these
run on are shared and noisy; absolute numbers are reported beside them for context only.
"""
