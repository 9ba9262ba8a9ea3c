"""The ``cauker`` command line: one subcommand per library function.

=========================  =====================================================
module                     holds
=========================  =====================================================
``config_flags``           the config flags, derived from ``CauKerConfig``'s fields
``corpus_commands``        ``generate``, ``configs``, ``preview``, ``export``, ``push``
``evaluation_commands``    ``evaluate``, ``sweep`` (with ``cauker[eval]``)
=========================  =====================================================

Each subcommand calls one library function, with the same arguments:

=============  =================================================================
subcommand     calls
=============  =================================================================
``generate``   :func:`cauker.files.corpus_folder.write_corpus_folder`
``preview``    :func:`cauker.files.preview.save_preview`
``export``     :func:`cauker.hub.layout.export_config` (``cauker.export``, with counts)
``push``       :func:`cauker.push_to_hub`
``evaluate``   :func:`cauker.evaluation.run.evaluate`
``sweep``      :func:`cauker.evaluation.sweep.plan_sweep`, then ``run_sweep``
=============  =================================================================

Every error is one line on stderr and exit status 2, never a traceback
(``CAUKER_DEBUG=1`` shows it). The console script ``cauker`` and ``python -m
cauker`` call :func:`main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cauker.errors import CaukerError, CliError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2
        raise CliError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    from cauker import __version__
    from cauker.cli import corpus_commands, evaluation_commands
    from cauker.config import ALGORITHM_VERSION

    parser = _Parser(
        prog="cauker",
        description="Generate, preview, export and publish CauKer synthetic time-series corpora.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"cauker {__version__} (algorithm {ALGORITHM_VERSION})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    corpus_commands.register(sub)
    evaluation_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Examples
    --------
    >>> main(["generate", "10k", "--length", "1"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.func(args)
    except CliError as error:
        print(str(error).splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cauker: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the CLI promises one line, not a traceback
        if os.environ.get("CAUKER_DEBUG"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        if not isinstance(error, CaukerError | ValueError | OSError | ImportError):
            message = f"{type(error).__name__}: {message} (set CAUKER_DEBUG=1 for a traceback)"
        print(f"cauker: error: {message}", file=sys.stderr)
        return 2
