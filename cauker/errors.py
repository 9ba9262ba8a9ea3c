"""Every exception that cauker defines, in one place: catch them by type.

::

    CaukerError                     the base of them all
    ├── ParameterError (ValueError)     a bad argument, config field or input: the
    │   │                               message names it, the value and what is allowed
    │   └── CliError                    a command line that argparse cannot parse
    ├── MissingDependencyError (ImportError)  an optional package is missing
    ├── ForeignFileError            a file cauker did not write stands where it must write
    ├── ShardWriteError             a file of a corpus could not be written
    ├── HubError                    a push to the Hugging Face Hub cannot go on
    ├── SchedulerError (OSError)    the Dask scheduler cannot be reached
    ├── RedrawError (RuntimeError)  a graph gave no valid series in MAX_ATTEMPTS draws
    └── UnsplitStreamWarning (UserWarning)  a DDP rank iterates every rank's rows

A bad value raises :class:`ParameterError` when the config or the call is
checked, before any work starts (:mod:`cauker.validation` holds the checks);
the other errors are failures of an operation under way. Each also derives
from the built-in exception named in parentheses, so ``except ValueError`` or
``except ImportError`` keep working. The command line prints any of them as one
line on stderr, with exit status 2.

Examples
--------
>>> import cauker
>>> from cauker.errors import CaukerError, ParameterError
>>> try:
...     cauker.CauKerConfig(num_series=0)
... except ParameterError as error:
...     print(error)
num_series must be in [1, 10000000000], got 0
>>> issubclass(ParameterError, CaukerError) and issubclass(ParameterError, ValueError)
True
"""

from __future__ import annotations

from typing import Any


class CaukerError(Exception):
    """The base of every exception (and warning) that cauker defines."""


class ParameterError(CaukerError, ValueError):
    """A bad argument, config field, flag or input: the message names it, the bad
    value and what is allowed. Raised before any work starts."""


class CliError(ParameterError):
    """A command line that cannot be parsed; the message is meant for one line on stderr."""


class MissingDependencyError(CaukerError, ImportError):
    """An optional package that the call needs is not installed; the message says
    what to install (``pip install 'cauker[eval]'``, ``cauker[dask]``...)."""


class ForeignFileError(CaukerError):
    """A file that cauker did not write stands where an export must write: cauker
    never replaces or deletes it; the message names it."""


class ShardWriteError(CaukerError):
    """A file of a corpus could not be written, or not read back once written; the
    message names the file and the cause."""

    def __init__(self, message: str, shard: Any = None) -> None:
        super().__init__(message)
        #: The :class:`~cauker.files.shard_plan.Shard` that failed, if known.
        self.shard = shard


class HubError(CaukerError):
    """A push that cannot go on; the message says why and what to do next."""


class SchedulerError(CaukerError, OSError):
    """The Dask scheduler (an address or a scheduler file) cannot be reached."""


class RedrawError(CaukerError, RuntimeError):
    """A graph was redrawn ``MAX_ATTEMPTS`` times without a valid output (every
    chosen series finite, and not constant with ``redraw_constant``)."""


class UnsplitStreamWarning(CaukerError, UserWarning):
    """A rank of a distributed run iterates a stream that is not split over the
    ranks: every rank generates every row."""
