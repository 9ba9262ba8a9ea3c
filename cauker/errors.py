"""Errors meant for the user: the message says what went wrong and what to do."""


class CaukerError(RuntimeError):
    """A failure of an operation (not a bad argument: those raise ``ValueError``)."""
