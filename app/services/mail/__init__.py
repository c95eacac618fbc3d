"""Outgoing e-mail: the messages we send (codes, notices) and the one place that sends them,
through SMTP or, in development and tests, as ``.eml`` files in a folder."""
