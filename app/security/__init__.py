"""Passwords, tokens and throttling: the only modules that touch cryptographic libraries."""
