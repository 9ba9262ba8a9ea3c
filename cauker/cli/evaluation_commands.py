"""The ``cauker evaluate`` and ``cauker sweep`` subcommands: thin layers over
:mod:`cauker.evaluation`.

Config flags come from :mod:`cauker.cli.config_flags`, so every config field is
a flag here as in ``generate`` or ``export``. This module imports neither
PyTorch nor the evaluation code until a subcommand runs, so ``cauker --help``
stays fast, and works without the ``cauker[eval]`` extra.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from cauker.cli.config_flags import add_config_flags, config_overrides
from cauker.errors import ParameterError
from cauker.evaluation.protocol import ENCODER_NAMES
from cauker.named_configs import NAMES, named_config


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None


def _add_protocol_arguments(parser: argparse.ArgumentParser) -> None:
    protocol = parser.add_argument_group("protocol (unset values come from the preset)")
    protocol.add_argument(
        "--protocol",
        choices=["zero-shot", "in-context"],
        default="zero-shot",
        help="zero-shot (default): pretrain an encoder on a corpus, classifiers on its frozen "
        "embeddings; in-context: train an in-context classifier on a task corpus (tasks-10k...) "
        "and score it few-shot against 1-NN with the same context",
    )
    protocol.add_argument(
        "--shots",
        type=int,
        default=None,
        help="in-context: labelled train examples per class in the context (5)",
    )
    protocol.add_argument(
        "--datasets",
        default="shipped",
        help="comma-separated: 'shipped' (every UCR dataset shipped by installed packages: 9 "
        "with cauker[eval]), dataset names, or paths: the UCR archive folder, a dataset folder "
        "or file (.ts, .tsv, .txt, .csv, .arff, .npz)",
    )
    protocol.add_argument(
        "--encoder",
        default="cnn",
        choices=ENCODER_NAMES,
        help="cnn (fast default); mantis = Mantis8M at full size on --device cuda, a "
        "small-width Mantis on cpu",
    )
    protocol.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    protocol.add_argument(
        "--series",
        type=int,
        default=None,
        help="series of each corpus used (10000); in-context: tasks (steps x batch size)",
    )
    protocol.add_argument(
        "--steps", type=int, default=None, help="pretraining steps (300; in-context 400)"
    )
    protocol.add_argument(
        "--batch-size", type=int, default=None, help="series per step (256; in-context: 8 tasks)"
    )
    protocol.add_argument(
        "--seeds", type=_seeds, default=None, help="pretraining seeds, e.g. 0,1,2 (0,1,2)"
    )
    protocol.add_argument(
        "--thorough", action="store_true", help="10 seeds instead of 3 (about 3x the time)"
    )
    protocol.add_argument(
        "--no-baselines", action="store_true", help="skip the random-init and raw-series anchors"
    )
    run = parser.add_argument_group("running")
    run.add_argument(
        "--workers", type=int, default=None, help="parallel processes (default: one per core)"
    )
    run.add_argument("--threads", type=int, default=1, help="PyTorch threads per process")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument(
        "--list-datasets",
        action="store_true",
        help="list the datasets that would be used, and exit",
    )


def register(subparsers) -> None:
    """Add the ``evaluate`` and ``sweep`` subcommands to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure corpus quality: pretrain an encoder, score it zero-shot on real data",
        description=(
            "Pretrain an encoder (InfoNCE) on the first SERIES series of a corpus, freeze it, "
            "and report random-forest and logistic-regression test accuracy on its embeddings "
            "of real UCR datasets (loaded offline, never downloaded), beside a reference corpus "
            "(default: the KernelSynth ablation of the same config), the untrained encoder and "
            "the raw series, with paired intervals and a verdict. Needs the extra: pip install "
            "'cauker[eval]'. The defaults cost about 1,800 pretraining steps: 9 to 28 minutes "
            "on 2 CPU cores, by their speed (see the documentation's evaluation guide)."
        ),
    )
    parser.add_argument(
        "corpus",
        nargs="?",
        default="10k",
        metavar="CONFIG_OR_PATH",
        help="a named config (10k, 100k, 1m, 10m; the overrides below apply) or a folder of "
        "Parquet files with a 'target' column (default 10k); with --protocol in-context, a task "
        "config (tasks-10k, tasks-100k, tasks-1m)",
    )
    add_config_flags(parser, "config overrides (named configs only)")
    parser.add_argument(
        "--reference",
        default="kernelsynth",
        help="corpus to compare with: 'kernelsynth' (the ablation dag_depth=0, mean_bank=zero of "
        "the evaluated config), 'none', a config name or a Parquet folder",
    )
    _add_protocol_arguments(parser)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON report path (default: evaluation-<corpus>.json in the current folder)",
    )
    parser.set_defaults(func=run_evaluate)

    parser = subparsers.add_parser(
        "sweep",
        help="evaluate a grid of configs against a reference (resumable)",
        description=(
            "Evaluate every config of a grid under the protocol of 'cauker evaluate' and rank "
            "them by their paired accuracy gap to a reference (default: the base config). One "
            "JSON file per cell in --output-dir; a rerun skips the cells already there. Writes "
            "sweep.txt (the ranked table), sweep.json and sweep.png (gap and interval per config)."
        ),
        epilog=(
            "example (the paper's ablations): cauker sweep 10k --cells kernelsynth,"
            "kernelsynth-means --vary max_kernels/max_parents=3/2,4/3,5/4,6/5,7/6 "
            "--vary num_nodes=10,20,30,40,50 --vary dag_depth=2,4,6,8 --output-dir ablations"
        ),
    )
    parser.add_argument(
        "config", nargs="?", default="10k", metavar="CONFIG", help="the base config (default 10k)"
    )
    add_config_flags(parser, "base config overrides")
    grid = parser.add_argument_group("grid")
    grid.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="AXIS",
        help="an axis: FIELD=V1,V2 (e.g. dag_depth=2,4,6,8; mean_bank=paper,zero,zero+linear) or "
        "F1/F2=A1/B1,A2/B2 (e.g. max_kernels/max_parents=3/2,4/3); repeat for more axes",
    )
    grid.add_argument(
        "--cells",
        default="",
        help="named cells, comma-separated: kernelsynth (dag_depth=0, mean_bank=zero), "
        "kernelsynth-means (dag_depth=0)",
    )
    grid.add_argument(
        "--product",
        action="store_true",
        help="the Cartesian product of the axes (default: each "
        "axis varied alone around the base config)",
    )
    grid.add_argument(
        "--reference",
        default=None,
        help="the corpus every cell is compared with: a config name or Parquet folder "
        "(default: the base config)",
    )
    grid.add_argument("--output-dir", default="sweep", help="folder of the results (default sweep)")
    grid.add_argument(
        "--list-cells", action="store_true", help="list the cells and the seeds each still needs"
    )
    _add_protocol_arguments(parser)
    parser.set_defaults(func=run_sweep_command)


def _config_from_args(args: argparse.Namespace, positional: str):
    name = getattr(args, positional)
    overrides = config_overrides(args)
    if name in NAMES:
        return named_config(name, **overrides)
    if overrides:
        flag = "--" + sorted(overrides)[0].replace("_", "-")
        raise ParameterError(
            f"{flag} applies only to a named config ({', '.join(NAMES)}), "
            f"not to {positional.upper()}={name!r}"
        )
    return name


def _protocol_kwargs(args: argparse.Namespace) -> dict:
    shots = {} if args.shots is None else {"shots": args.shots}
    return shots | {
        "protocol": args.protocol,
        "datasets": args.datasets,
        "encoder": args.encoder,
        "device": args.device,
        "series": args.series,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "seeds": args.seeds,
        "thorough": args.thorough,
        "baselines": not args.no_baselines,
        "workers": args.workers,
        "threads": args.threads,
    }


def _list_datasets(specs: str) -> int:
    from cauker.evaluation.real_datasets import load_datasets

    for dataset in load_datasets(specs):
        info = dataset.summary()
        print(
            f"{info['name']:<28} train {info['train']:>5}  test {info['test']:>5}  "
            f"classes {info['classes']:>3}  length {info['min_length']}-{info['max_length']}  "
            f"{info['source']}"
        )
    return 0


def _default_output(label: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-").lower()
    return Path(f"evaluation-{slug[:80]}.json")


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``cauker evaluate``; bad input raises ValueError (the main CLI prints it, exit 2)."""
    if args.list_datasets:
        return _list_datasets(args.datasets)
    corpus = _config_from_args(args, "corpus")
    from cauker.evaluation.run import evaluate

    report = evaluate(
        corpus, reference=args.reference, progress=not args.quiet, **_protocol_kwargs(args)
    )
    print(report.format_table())
    output = args.output or _default_output(report.corpus["label"])
    report.to_json(output)
    print(f"wrote {output}", file=sys.stderr)
    return 0


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run ``cauker sweep``."""
    if args.list_datasets:
        return _list_datasets(args.datasets)
    base = _config_from_args(args, "config")
    if isinstance(base, str):
        raise ParameterError(f"CONFIG must be a named config, got {base!r}")
    from cauker.evaluation.sweep import plan_sweep, run_sweep

    plan = plan_sweep(
        base,
        vary=args.vary,
        cells=[c.strip() for c in args.cells.split(",") if c.strip()],
        product=args.product,
        reference=args.reference,
        output_dir=args.output_dir,
        **_protocol_kwargs(args),
    )
    if args.list_cells:
        for cell in plan.cells:
            state = "to run: seeds " + ",".join(map(str, cell.missing)) if cell.missing else "done"
            print(f"{cell.name:<40} {state:<24} {cell.path}")
        return 0
    report = run_sweep(plan, progress=not args.quiet)
    print(report.format_table())
    print(f"wrote {plan.output_dir}/sweep.txt, sweep.json, sweep.png", file=sys.stderr)
    return 0
