"""The subcommands that make corpora: ``generate``, ``configs``, ``preview``,
``export`` and ``push``, each a thin layer over one library function.

Their config flags come from :mod:`cauker.cli.config_flags`; errors propagate
to :func:`cauker.cli.main`, which prints them as one line.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from cauker.cli.config_flags import add_config_argument, config_from
from cauker.config import NAMED_SIZES, CauKerConfig
from cauker.errors import ParameterError
from cauker.named_configs import named_config
from cauker.task_config import TASK_SIZES, TaskConfig


def _check_local_output(text: str) -> Path:
    """``--output-dir`` of ``generate``: a local folder."""
    if text == "":
        raise ParameterError("--output-dir must be a folder, got ''")
    if "://" in text:
        raise ParameterError(
            f"--output-dir must be a local folder, got {text!r}; to write to a URL, use "
            "`cauker export`"
        )
    return Path(text)


def _check_export_url(text: str) -> str:
    if text.startswith("memory://"):
        raise ParameterError(
            f"--output-dir {text!r}: memory:// is this process's memory, and the files would "
            "vanish when cauker exits; give a folder or a storage URL"
        )
    return text


def cmd_generate(args: argparse.Namespace) -> int:
    output = _check_local_output(args.output_dir)
    config = config_from(args)  # validate before anything is written
    from cauker.files.corpus_folder import write_corpus_folder

    done = write_corpus_folder(
        config,
        output,
        args.format,
        num_proc=args.num_proc,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    count, kept = len(done.files), len(done.files) - done.written
    if not done.written:
        print(
            f"{output} already holds this corpus ({count} {done.format} file(s), verified); "
            "nothing written"
        )
        print(f"load it with: {done.load_hint()}")
        return 0
    replaced = ", replacing the corpus that was there" if done.replaced else ""
    complete = f" ({kept} of {count} were complete and verified)" if kept else ""
    print(f"wrote {done.written} {done.format} file(s) to {output}{complete}{replaced}")
    print(f"load them with: {done.load_hint()}")
    return 0


def cmd_configs(args: argparse.Namespace) -> int:
    for number, (kind, names) in enumerate(((CauKerConfig, NAMED_SIZES), (TaskConfig, TASK_SIZES))):
        if number:
            print()
        fields = [f.name for f in dataclasses.fields(kind)]
        rows = [["config", *fields]]
        for name in names:
            config = named_config(name)
            values = {f: getattr(config, f) for f in fields}
            values["num_validation"] = config.split_size("validation")  # what None stands for
            rows.append([name] + [str(values[f]) for f in fields])
        rows = [list(col) for col in zip(*rows)]  # one line per field reads better
        width = [max(len(cell) for cell in col) for col in zip(*rows)]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, width)).rstrip())
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    config = config_from(args)
    from cauker.files.preview import save_preview

    path = save_preview(config, args.out, rows=args.rows, columns=args.columns)
    print(f"wrote {path}")
    return 0


def _add_hub_layout_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that ``export`` and ``push`` share."""
    parser.add_argument("--name", help="config name in the repo (default CONFIG)")
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'local'")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--license",
        default=None,
        help="the card's license, a Hub identifier such as cc-by-4.0 (default: the card's "
        "own, else apache-2.0)",
    )


def _hub_layout_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``export`` and ``push_to_hub`` that their options give."""
    return {
        "config_name": args.config if args.name is None else args.name,
        "num_proc": args.num_proc,
        "scheduler": args.scheduler,
        "progress": not args.quiet,
        "license": args.license,
    }


def cmd_export(args: argparse.Namespace) -> int:
    config = config_from(args)  # before the heavy imports: a bad value fails at once
    from cauker.hub.layout import export_config

    where = _check_export_url(args.output_dir)
    done = export_config(config, where, **_hub_layout_options(args))
    out, name = done.url, done.entry.name
    hint = f"load with datasets.load_dataset({out!r}, {name!r})"
    if done.written:
        print(f"exported to {out} ({done.written} of {done.shards} shard(s) written); {hint}")
    else:
        print(
            f"{out} already holds config {name!r} ({done.shards} shard(s), verified); nothing "
            f"written; {hint}"
        )
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    config = config_from(args)  # before the heavy imports: a bad value fails at once
    from cauker.hub.push import push_to_hub

    options = _hub_layout_options(args)
    url = push_to_hub(
        config,
        args.repo,
        token=args.token,
        private=args.private,
        staging_dir=args.staging_dir,
        timeout=args.timeout,
        **options,
    )
    name = options["config_name"]
    print(f"pushed {url}; load with datasets.load_dataset({args.repo!r}, {name!r})")
    return 0


def register(sub) -> None:
    """Add ``generate``, ``configs``, ``preview``, ``export`` and ``push`` to an
    argparse ``subparsers`` object."""

    p = sub.add_parser(
        "generate", help="generate a corpus into files (Parquet, Arrow IPC or GluonTS)"
    )
    add_config_argument(p)
    p.add_argument("--output-dir", default="corpus", help="where to write (default ./corpus)")
    p.add_argument("--num-proc", type=int, default=None, help="worker processes")
    p.add_argument(
        "--format",
        choices=["parquet", "arrow", "gluonts"],
        default="parquet",
        help="parquet (default), arrow (Arrow IPC files) or gluonts (IPC files with start and "
        "target, for GluonTS and Chronos); one folder per split",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a corpus already there")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "configs", help="list the named configs (corpora and task corpora) and their parameters"
    )
    p.set_defaults(func=cmd_configs)

    p = sub.add_parser("preview", help="draw a grid of sample series to a PNG")
    add_config_argument(p)
    p.add_argument("--out", default="preview.png", help="image file (default preview.png)")
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--columns", type=int, default=4)
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("export", help="write the Hub layout (Parquet shards and card) locally")
    add_config_argument(p)
    p.add_argument("--output-dir", required=True, help="folder or fsspec URL")
    _add_hub_layout_arguments(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("push", help="generate a config and publish it to the Hugging Face Hub")
    add_config_argument(p)
    p.add_argument("--repo", required=True, help="dataset repo id, USER/NAME")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the login)")
    p.add_argument("--staging-dir", default=None, help="local staging folder (default: cache)")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time limit of each request to the Hub (default: CAUKER_HUB_TIMEOUT, else 30); "
        "a call is tried three times",
    )
    _add_hub_layout_arguments(p)
    p.set_defaults(func=cmd_push)
