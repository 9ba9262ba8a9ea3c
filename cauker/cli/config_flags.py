"""The config flags of every subcommand, derived from the fields of ``CauKerConfig``
and ``TaskConfig``.

One ``--flag`` per field, with the help text and parser declared in the field's
metadata (:class:`cauker.config.Flag`): a field added to a config is a flag
of ``generate``, ``preview``, ``export``, ``push``, ``evaluate`` and ``sweep``
without another edit. The fields of ``TaskConfig`` that ``CauKerConfig`` lacks
form a group of their own; a flag that does not apply to the named config
(``--num-series`` for ``tasks-10k``) is refused by ``named_config``.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from cauker.config import CauKerConfig, flag_of, option, parse_count, parse_optional_int
from cauker.named_configs import NAMES, named_config
from cauker.task_config import TASK_SIZES, TaskConfig

#: What each flag parser reads, for the message of a value it cannot read.
_EXPECTED = {
    int: "an integer",
    parse_optional_int: "an integer or 'none'",
    parse_count: "an integer or a range LOW:HIGH",
}


def _reader(name: str, parse) -> Any:
    """``parse``, whose failure argparse shows as ``argument --flag: name must be
    ..., got 'text'`` (not the parser's function name)."""

    def read(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            expected = _EXPECTED.get(parse, "a valid value")
            raise argparse.ArgumentTypeError(f"{name} must be {expected}, got {text!r}") from None

    return read


#: The fields of a task config that a corpus config lacks.
TASK_FIELDS = tuple(
    f for f in dataclasses.fields(TaskConfig) if f.name not in CauKerConfig.__dataclass_fields__
)


def add_config_flags(parser: argparse.ArgumentParser, title: str = "config overrides") -> None:
    """Add one ``--flag`` per config field to ``parser``, in a group named ``title``,
    then the task configs' own fields in a group of their own.

    A flag that is not given leaves no attribute on the parsed namespace, so
    ``--dag-depth none`` (None) is told apart from no flag at all.
    """
    _add_flags(parser.add_argument_group(title), dataclasses.fields(CauKerConfig))
    _add_flags(
        parser.add_argument_group(f"task config overrides ({', '.join(TASK_SIZES)} only)"),
        TASK_FIELDS,
    )


def _add_flags(group, fields) -> None:
    for field in fields:
        flag = flag_of(field)
        text = flag.help
        if not flag.switch and field.default is not dataclasses.MISSING:
            text += f" (default {flag.text(field.default)})"
        kwargs: dict[str, Any] = {"dest": field.name, "default": argparse.SUPPRESS}
        if flag.switch:
            kwargs["action"] = "store_true"
        else:
            kwargs["type"] = _reader(field.name, flag.parse)
            kwargs["metavar"] = field.name.upper()
        group.add_argument(option(field.name), help=text.replace("%", "%%"), **kwargs)


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config fields given as flags, by name."""
    names = [field.name for field in (*dataclasses.fields(CauKerConfig), *TASK_FIELDS)]
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def add_config_argument(parser: argparse.ArgumentParser, **kwargs: Any) -> None:
    """The positional ``CONFIG`` (a named config), then the config flags."""
    kwargs.setdefault("help", f"one of {', '.join(NAMES)}")
    parser.add_argument("config", metavar="CONFIG", **kwargs)
    add_config_flags(parser)


def config_from(args: argparse.Namespace) -> CauKerConfig:
    """The named config ``args.config`` with the flags given (raises ``ParameterError``)."""
    return named_config(args.config, **config_overrides(args))
