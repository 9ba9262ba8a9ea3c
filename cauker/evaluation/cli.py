"""The ``cauker evaluate`` subcommand: a thin layer over :func:`cauker.evaluation.evaluate`.

This module imports neither PyTorch nor the evaluation code until the
subcommand runs, so ``cauker --help`` stays fast without the extra.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

#: Config fields that ``evaluate`` accepts as overrides of a named config.
CONFIG_FLAGS = (
    ("length", int, "points per series"),
    ("num_nodes", int, "nodes per causal graph"),
    ("max_parents", int, "largest number of parents of a node"),
    ("max_kernels", int, "largest number of kernels composed per root"),
    ("series_per_graph", int, "series kept per graph"),
    ("dag_depth", "depth", "layered DAG depth; 0 = every node a GP root; 'none' = paper DAG"),
    ("kernel_bank", "bank", "kernel bank: paper or v2"),
    ("mean_bank", "bank", "paper, zero, or a comma list of zero,linear,exponential,anomalies"),
    ("activation_bank", "bank", "paper, v2, or a comma list of activation names"),
    ("seed", int, "root seed of the corpus"),
)


def _depth(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--dag-depth must be an integer or 'none', got {text!r}") from None


def _bank(text: str) -> str | tuple[str, ...]:
    """A bank name stays a name; ``relu,sin`` becomes a tuple of entries."""
    return tuple(t.strip() for t in text.split(",")) if "," in text else text


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``evaluate`` subcommand to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure corpus quality: pretrain a small encoder, score it zero-shot on real data",
        description=(
            "Pretrain a small CNN encoder (InfoNCE) on the first SERIES series of a corpus, "
            "freeze it, and report random-forest and logistic-regression test accuracy on its "
            "embeddings of real UCR datasets (loaded offline, never downloaded), beside a "
            "reference corpus (default: the KernelSynth ablation of the same config), the "
            "untrained encoder and the raw series. Needs the extra: pip install 'cauker[eval]'. "
            "The defaults take 6 to 13 minutes on 2 CPU cores, depending on other load."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "corpus",
        nargs="?",
        default="10k",
        metavar="CONFIG_OR_PATH",
        help="a named config (10k, 100k, 1m, 10m; the overrides below apply) or a folder of "
        "Parquet files with a 'target' column",
    )
    overrides = parser.add_argument_group("config overrides (named configs only)")
    for name, kind, text in CONFIG_FLAGS:
        overrides.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type={"depth": str, "bank": _bank}.get(kind, kind),
            default=None,
            help=text,
        )
    overrides.add_argument(
        "--multivariate",
        action="store_true",
        default=None,
        help="multivariate rows (split into channels)",
    )
    protocol = parser.add_argument_group("protocol")
    protocol.add_argument(
        "--reference",
        default="kernelsynth",
        help="corpus to compare with: 'kernelsynth' (the ablation dag_depth=0, mean_bank=zero of "
        "the evaluated config), 'none', a config name or a Parquet folder",
    )
    protocol.add_argument(
        "--datasets",
        default="shipped",
        help="comma-separated: 'shipped' (every UCR dataset shipped by installed packages), "
        "dataset names, or paths to UCR files or folders (.ts, .tsv, .txt, .csv, .arff, .npz)",
    )
    protocol.add_argument("--series", type=int, default=10_000, help="series of each corpus used")
    protocol.add_argument("--steps", type=int, default=300, help="pretraining steps")
    protocol.add_argument("--batch-size", type=int, default=256, help="series per step")
    protocol.add_argument(
        "--seeds", type=_seeds, default=[0, 1], help="pretraining seeds, e.g. 0,1"
    )
    protocol.add_argument(
        "--no-baselines", action="store_true", help="skip the random-init and raw-series baselines"
    )
    run = parser.add_argument_group("running")
    run.add_argument(
        "--workers", type=int, default=None, help="parallel processes (default: one per core)"
    )
    run.add_argument("--threads", type=int, default=1, help="PyTorch threads per process")
    run.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON report path (default: evaluation-<corpus>.json in the current folder)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument(
        "--list-datasets",
        action="store_true",
        help="list the datasets that would be used, and exit",
    )
    parser.set_defaults(func=run_evaluate, handler=run_evaluate)
    return parser


def _corpus_from_args(args: argparse.Namespace):
    from cauker.config import NAMED_SIZES, named_config

    chosen = {name: getattr(args, name) for name, _, _ in CONFIG_FLAGS}
    chosen["multivariate"] = args.multivariate
    overrides = {k: v for k, v in chosen.items() if v is not None}
    if "dag_depth" in overrides:
        overrides["dag_depth"] = _depth(overrides["dag_depth"])
    if args.corpus in NAMED_SIZES:
        return named_config(args.corpus, **overrides)
    if overrides:
        flag = "--" + sorted(overrides)[0].replace("_", "-")
        raise ValueError(
            f"{flag} applies only to a named config ({', '.join(NAMED_SIZES)}), "
            f"not to CONFIG_OR_PATH={args.corpus!r}"
        )
    return args.corpus


def _default_output(label: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-").lower()
    return Path(f"evaluation-{slug[:80]}.json")


def run_evaluate(args: argparse.Namespace) -> int:
    """Run the subcommand; bad input raises ValueError (the main CLI prints it, exit 2)."""
    from cauker.evaluation.real_datasets import load_datasets

    if args.list_datasets:
        for dataset in load_datasets(args.datasets):
            info = dataset.summary()
            print(
                f"{info['name']:<28} train {info['train']:>5}  test {info['test']:>5}  "
                f"classes {info['classes']:>3}  length {info['min_length']}-{info['max_length']}  "
                f"{info['source']}"
            )
        return 0
    corpus = _corpus_from_args(args)
    from cauker.evaluation.run import evaluate

    try:
        report = evaluate(
            corpus,
            reference=args.reference,
            datasets=args.datasets,
            series=args.series,
            steps=args.steps,
            batch_size=args.batch_size,
            seeds=args.seeds,
            baselines=not args.no_baselines,
            workers=args.workers,
            threads=args.threads,
            progress=not args.quiet,
        )
    except ImportError as error:
        raise ValueError(str(error)) from error
    print(report.format_table())
    output = args.output or _default_output(report.corpus["label"])
    report.to_json(output)
    print(f"wrote {output}", file=sys.stderr)
    return 0
