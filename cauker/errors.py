"""Errors meant for the user: the message says what went wrong and what to do."""


class CaukerError(RuntimeError):
    """A failure of an operation (not a bad argument: those raise ``ValueError``)."""


class ForeignFileError(CaukerError):
    """A file that cauker did not write stands where an export must write: cauker
    never replaces or deletes it; the message names it."""
