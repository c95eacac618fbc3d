"""Runnable examples for partners (a package only so that tests and mypy can import them)."""
