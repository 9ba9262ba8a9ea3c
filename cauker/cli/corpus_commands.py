"""The subcommands that make corpora: ``generate``, ``configs``, ``preview``,
``export`` and ``push``, each a thin layer over one library function.

Their config flags come from :mod:`cauker.cli.config_flags`; errors propagate
to :func:`cauker.cli.main`, which prints them as one line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from pathlib import Path

from cauker.cli.config_flags import add_config_argument, config_from, config_overrides
from cauker.config import NAMED_SIZES, SPLITS, CauKerConfig, named_config
from cauker.errors import CaukerError, ParameterError

# -- subcommands ------------------------------------------------------------


def _progress(args: argparse.Namespace) -> None:
    if getattr(args, "quiet", False):
        import datasets

        datasets.disable_progress_bars()


def _check_local_output(text: str) -> Path:
    """``--output-dir`` of ``generate``: a local folder (``datasets`` replaces it whole)."""
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


def _remove_builder_locks(output: Path) -> None:
    """``datasets`` leaves ``<out>_builder.lock`` and ``<out>.incomplete_info.lock``
    beside the folder it writes; they are empty, and no longer held once it returns."""
    for lock in (f"{output}_builder.lock", f"{output}.incomplete_info.lock"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(lock)


def _root_cause(error: BaseException) -> BaseException:
    """The error that ``datasets`` wrapped in ``DatasetGenerationError`` (a full disk...)."""
    while type(error).__name__ == "DatasetGenerationError" and error.__cause__ is not None:
        error = error.__cause__
    return error


def _held_corpus(output: Path) -> dict | None:
    """What ``cauker.json`` says a non-empty ``output`` holds; None if it is new or empty.
    A non-empty folder without it is refused: it is not ours to write into."""
    import json

    if not output.exists() or not any(output.iterdir()):
        return None
    marker = output / "cauker.json"
    if not marker.is_file():
        # datasets replaces the whole folder: never let it touch anything but ours.
        raise ParameterError(
            f"--output-dir {output} is not empty and holds no cauker corpus; choose an "
            "empty or new folder (the whole folder would be replaced)"
        )
    held = json.loads(marker.read_text())
    held.setdefault("format", "parquet")
    return held


def _remove_corpus(output: Path, held: dict) -> None:
    """Delete the files a previous ``generate`` wrote (listed in its ``cauker.json``)."""
    for name in held.get("files", []):
        (output / name).unlink(missing_ok=True)
    for folder in SPLITS:
        if (output / folder).is_dir() and not any((output / folder).iterdir()):
            (output / folder).rmdir()


def _load_hint(output: Path, format: str, config: CauKerConfig) -> str:
    if format == "parquet":
        files = {s: f"{output}/*-{s}*.parquet" for s in SPLITS if config.split_size(s) > 0}
        return f"datasets.load_dataset('parquet', data_files={files})"
    if format == "gluonts":
        return f"gluonts.dataset.common.FileDataset('{output}/train', freq='h')"
    return f"pyarrow.dataset.dataset('{output}/train', format='arrow')"


def cmd_generate(args: argparse.Namespace) -> int:
    import json

    output = _check_local_output(args.output_dir)
    config = config_from(args)  # validate before anything is written
    marker = output / "cauker.json"
    held = _held_corpus(output)
    if held is not None and held.get("fingerprint") != config.fingerprint() and not args.overwrite:
        raise ParameterError(
            f"--output-dir {output} already holds another corpus; pass --overwrite to "
            "replace it, or choose another folder"
        )
    if held is not None and held["format"] != args.format and not args.overwrite:
        raise ParameterError(
            f"--output-dir {output} already holds this corpus as {held['format']} files; pass "
            f"--overwrite to replace them with {args.format} files, or choose another folder"
        )
    same = (
        held is not None
        and held.get("fingerprint") == config.fingerprint()
        and held["format"] == args.format
    )
    kept = held.get("files") if same else None
    if kept and held.get("complete") and all((output / name).exists() for name in kept):
        count = sum(1 for name in kept if name.endswith("." + _suffix(args.format)))
        print(
            f"{output} already holds this corpus ({count} {args.format} file(s)); nothing written"
        )
        print(f"load it with: {_load_hint(output, args.format, config)}")
        return 0
    _progress(args)
    about = {"fingerprint": config.fingerprint(), "config": config.to_dict(), "format": args.format}
    if args.format == "parquet":
        from cauker.hf.loading import builder

        b = builder(args.config, **config_overrides(args))
        try:
            b.download_and_prepare(
                output_dir=str(output),
                num_proc=args.num_proc,
                file_format=args.format,
                download_mode="force_redownload" if args.overwrite else None,
            )
        except Exception as error:
            cause = _root_cause(error)
            if cause is error:
                raise
            raise cause from error
        finally:
            _remove_builder_locks(output)
        written = sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file())
    else:
        from tqdm.auto import tqdm

        from cauker.files.corpus_folder import write_ipc_files

        if held is not None and not same:
            _remove_corpus(output, held)
        output.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({**about, "complete": False, "files": []}, indent=1))
        total = sum(config.split_size(s) for s in SPLITS)
        with tqdm(total=total, unit=" rows", desc="Generating", disable=args.quiet) as bar:
            paths = write_ipc_files(
                config, output, args.format, num_proc=args.num_proc, progress=bar.update
            )
        written = [str(p.relative_to(output)) for p in paths]
    written = [name for name in written if name != "cauker.json"]
    files = [name for name in written if name.endswith("." + _suffix(args.format))]
    if not files:
        raise CaukerError(f"no {args.format} file was written to {output}")
    marker.write_text(json.dumps({**about, "complete": True, "files": written}, indent=1))
    print(f"wrote {len(files)} {args.format} file(s) to {output}")
    print(f"load them with: {_load_hint(output, args.format, config)}")
    return 0


def _suffix(format: str) -> str:
    return "parquet" if format == "parquet" else "arrow"


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
    config = config_from(args)
    from cauker.files.preview import save_preview

    path = save_preview(config, args.out, rows=args.rows, columns=args.columns)
    print(f"wrote {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    config = config_from(args)  # before the heavy imports: a bad value fails at once
    from cauker.files.hub_folder import export

    name = args.config if args.name is None else args.name
    _progress(args)
    out = export(
        config,
        _check_export_url(args.output_dir),
        config_name=name,
        num_proc=args.num_proc,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    print(f"exported to {out}; load with datasets.load_dataset({str(out)!r}, {name!r})")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    config = config_from(args)  # before the heavy imports: a bad value fails at once
    from cauker.hf.hub import push_to_hub

    name = args.config if args.name is None else args.name
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
        help="parquet (default, the datasets builder's files), arrow (Arrow IPC files, one "
        "folder per split) or gluonts (IPC files with start and target, for GluonTS and Chronos)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a corpus already there")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("configs", help="list the named configs and their parameters")
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
    p.add_argument("--name", help="config name in the repo (default CONFIG)")
    p.add_argument("--num-proc", type=int, default=None, help="worker processes")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'local'")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("push", help="generate a config and publish it to the Hugging Face Hub")
    add_config_argument(p)
    p.add_argument("--repo", required=True, help="dataset repo id, USER/NAME")
    p.add_argument("--name", help="config name in the repo (default CONFIG)")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the login)")
    p.add_argument("--staging-dir", default=None, help="local staging folder (default: cache)")
    p.add_argument("--num-proc", type=int, default=None, help="worker processes")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, or 'local'")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_push)
