"""The ``cauker`` command line: one subcommand per library function.

``cauker generate``, ``configs``, ``preview``, ``export``, ``push``, ``evaluate`` and
``sweep``. Every error is one line on stderr and exit status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cauker.config import NAMED_SIZES, CauKerConfig, named_config
from cauker.errors import CaukerError
from cauker.shards import SPLITS


class CliError(Exception):
    """A user error with a message meant for one line on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2
        raise CliError(f"{self.prog}: {message}")


# -- config arguments -------------------------------------------------------


def _bank(text: str) -> str | tuple[str, ...]:
    """``paper`` stays a bank name; ``relu,sin`` becomes a tuple of entries."""
    return tuple(t.strip() for t in text.split(",")) if "," in text else text


def _optional_int(text: str) -> int | None:
    return None if text.lower() == "none" else int(text)


_OVERRIDES = [
    ("num_series", int, "rows of the train split"),
    ("length", int, "points per series (default 512)"),
    ("num_nodes", int, "nodes per causal graph (default 18)"),
    ("max_parents", int, "largest number of parents of a node (default 6)"),
    ("max_kernels", int, "largest number of kernels composed per root (default 7)"),
    ("series_per_graph", int, "distinct nodes kept per graph (default 4)"),
    ("dag_depth", _optional_int, "exact DAG depth (layered DAG); 'none' is the paper's DAG"),
    ("kernel_bank", _bank, "paper or v2"),
    ("mean_bank", _bank, "paper, zero, or a comma list of zero,linear,exponential,anomalies"),
    ("activation_bank", _bank, "paper, v2, or a comma list of activation names"),
    ("seed", int, "root seed (default 0)"),
    ("num_validation", int, "rows of the validation split (default 1%% of num_series)"),
]


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG", help=f"one of {', '.join(NAMED_SIZES)}")
    add_config_overrides(parser)


def add_config_overrides(parser: argparse.ArgumentParser, title: str = "config overrides") -> None:
    """One ``--flag`` per config field (every subcommand that takes a config uses this)."""
    group = parser.add_argument_group(title)
    for name, kind, text in _OVERRIDES:
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    group.add_argument(
        "--multivariate",
        dest="multivariate",
        action="store_true",
        default=None,
        help="keep a graph's series together as one row",
    )
    group.add_argument(
        "--redraw-constant",
        dest="redraw_constant",
        action="store_true",
        default=None,
        help="redraw graphs with a constant series (not in the paper)",
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config fields given as flags, by name."""
    names = [n for n, _, _ in _OVERRIDES] + ["multivariate", "redraw_constant"]
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _config(args: argparse.Namespace) -> CauKerConfig:
    return named_config(args.config, **_overrides(args))


# -- subcommands ------------------------------------------------------------


def _progress(args: argparse.Namespace) -> None:
    if getattr(args, "quiet", False):
        import datasets

        datasets.disable_progress_bars()


def cmd_generate(args: argparse.Namespace) -> int:
    import json

    from cauker.loading import builder

    config = _config(args)  # validate before anything is written
    output = Path(args.output_dir)
    marker = output / "cauker.json"
    if output.exists() and any(output.iterdir()):
        # datasets replaces the whole folder: never let it touch anything but ours.
        if not marker.is_file():
            raise ValueError(
                f"--output-dir {output} is not empty and holds no cauker corpus; choose an "
                "empty or new folder (the whole folder would be replaced)"
            )
        held = json.loads(marker.read_text()).get("fingerprint")
        if held != config.fingerprint() and not args.overwrite:
            raise ValueError(
                f"--output-dir {output} already holds another corpus; pass --overwrite to "
                "replace it, or choose another folder"
            )
    _progress(args)
    b = builder(args.config, **_overrides(args))
    b.download_and_prepare(
        output_dir=str(output),
        num_proc=args.num_proc,
        file_format=args.format,
        download_mode="force_redownload" if args.overwrite else None,
    )
    about = {"fingerprint": config.fingerprint(), "config": config.to_dict()}
    marker.write_text(json.dumps(about, indent=1))
    files = sorted(p.name for p in output.glob(f"*.{args.format}"))
    print(f"wrote {len(files)} {args.format} file(s) to {output}")
    if args.format == "parquet":
        files = {s: f"{output}/*-{s}*.parquet" for s in SPLITS}
        print(f"load them with: datasets.load_dataset('parquet', data_files={files})")
    return 0


def cmd_configs(args: argparse.Namespace) -> int:
    fields = [f.name for f in dataclasses.fields(CauKerConfig)]
    rows = [["config", *fields]]
    for name in NAMED_SIZES:
        config = named_config(name)
        rows.append([name] + [str(getattr(config, f)) for f in fields])
    rows = [list(col) for col in zip(*rows)]  # one line per field reads better
    width = [max(len(cell) for cell in col) for col in zip(*rows)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, width)).rstrip())
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from cauker.preview import save_preview

    config = _config(args)
    path = save_preview(config, args.out, rows=args.rows, columns=args.columns)
    print(f"wrote {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from cauker.hub_layout import export

    config = _config(args)
    name = args.name or args.config
    _progress(args)
    out = export(
        config,
        args.output_dir,
        config_name=name,
        num_proc=args.num_proc,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    print(f"exported to {out}; load with datasets.load_dataset({str(out)!r}, {name!r})")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from cauker.hub import push_to_hub

    config = _config(args)
    name = args.name or args.config
    _progress(args)
    url = push_to_hub(
        config,
        args.repo,
        config_name=name,
        token=args.token,
        private=args.private,
        staging_dir=args.staging_dir,
        num_proc=args.num_proc,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    print(f"pushed {url}; load with datasets.load_dataset({args.repo!r}, {name!r})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cauker",
        description="Generate, preview, export and publish CauKer synthetic time-series corpora.",
    )
    from cauker import __version__
    from cauker.config import ALGORITHM_VERSION

    parser.add_argument(
        "--version",
        action="version",
        version=f"cauker {__version__} (algorithm {ALGORITHM_VERSION})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("generate", help="generate a corpus with the datasets builder")
    _add_config_arguments(p)
    p.add_argument("--output-dir", default="corpus", help="where to write (default ./corpus)")
    p.add_argument("--num-proc", type=int, default=None, help="worker processes")
    p.add_argument("--format", choices=["parquet", "arrow"], default="parquet")
    p.add_argument("--overwrite", action="store_true", help="replace a corpus already there")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("configs", help="list the named configs and their parameters")
    p.set_defaults(func=cmd_configs)

    p = sub.add_parser("preview", help="draw a grid of sample series to a PNG")
    _add_config_arguments(p)
    p.add_argument("--out", default="preview.png", help="image file (default preview.png)")
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--columns", type=int, default=4)
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("export", help="write the Hub layout (Parquet shards and card) locally")
    _add_config_arguments(p)
    p.add_argument("--output-dir", required=True, help="folder or fsspec URL")
    p.add_argument("--name", help="config name in the repo (default CONFIG)")
    p.add_argument("--num-proc", type=int, default=None, help="worker processes")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'local'")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("push", help="generate a config and publish it to the Hugging Face Hub")
    _add_config_arguments(p)
    p.add_argument("--repo", required=True, help="dataset repo id, USER/NAME")
    p.add_argument("--name", help="config name in the repo (default CONFIG)")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the login)")
    p.add_argument("--staging-dir", default=None, help="local staging folder (default: cache)")
    p.add_argument("--num-proc", type=int, default=None, help="worker processes")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'local'")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_push)

    try:
        from cauker.evaluation.cli import register
    except ImportError:  # the evaluation extra is optional
        pass
    else:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
        if not isinstance(error, ValueError | OSError | ImportError | CaukerError):
            message = f"{type(error).__name__}: {message} (set CAUKER_DEBUG=1 for a traceback)"
        print(f"cauker: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
