"""Train a small in-context classifier on a streamed cauker task corpus; score it few-shot.

The model (``cauker.evaluation.in_context_model``): a per-series 1-D CNN
encoder, then a transformer over the context's embeddings (each plus the
embedding of its label) and the queries; a query's class scores are its dot
products with the classes' mean context outputs, so any number of classes
works. It is trained on tasks streamed from ``cauker.load_dataset(...,
streaming=True)`` (generated on the fly; each DDP rank draws only its own),
one class definition after another, then scored on the real UCR datasets that
``cauker[eval]`` ships: ``--shots`` labelled examples per class from each
dataset's train split as the context, its test split as queries, against
1-NN with the same context and the untrained model. The table is the one
``cauker evaluate --protocol in-context`` prints (paired intervals and verdicts
over datasets and seeds).

On a CPU (the table in the documentation: about 30 CPU-minutes, six trainings of
600 steps of 8 tasks)::

    pip install "cauker[eval]"
    python examples/in_context_classifier.py --steps 600 --seeds 0,1,2

On 8 GPUs, an endless stream of tasks (every step sees new tasks)::

    torchrun --nproc_per_node=8 examples/in_context_classifier.py --device cuda \\
        --config tasks-1m --steps 20000 --batch-size 32 --width 256 --depth 6 --workers 6

A CPU smoke run (what the tests run)::

    python examples/in_context_classifier.py --tiny
"""

from __future__ import annotations

import argparse
import os
import time

import pyarrow as pa
import torch

import cauker
from cauker.evaluation import in_context
from cauker.evaluation.in_context_model import build_model
from cauker.evaluation.report import EvaluationReport
from cauker.evaluation.run import prepare_datasets


def stream_batches(name, definition, seed, batch_size, workers, rank, world_size, **fields):
    """Batches of tasks streamed from the task corpus ``name`` (this rank's share)."""
    kwargs = {"rank": rank, "world_size": world_size} if world_size > 1 else {}
    stream = cauker.load_dataset(
        name, split="train", streaming=True, class_definition=definition, seed=seed,
        num_tasks=None, **kwargs, **fields,
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(
        stream.with_format("arrow"),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=lambda rows: pa.concat_tables(rows) if isinstance(rows, list) else rows,
    )
    for table in loader:
        yield in_context.episodes(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="tasks-100k", help="the task corpus to stream")
    parser.add_argument("--definitions", default="graph,shift", help="class definitions compared")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=8, help="tasks per step and rank")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--datasets", default="shipped")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers per rank")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads per process")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--out", help="write the report's JSON here")
    parser.add_argument("--tiny", action="store_true", help="a CPU smoke run")
    args = parser.parse_args()
    fields = {"length": args.length}
    if args.tiny:
        args.steps, args.batch_size, args.width, args.depth, args.seeds = 3, 2, 16, 1, "0"
        args.datasets = "GunPoint,ItalyPowerDemand"  # shipped by sktime
        fields = {"length": 64, "max_classes": 4, "max_support": 3, "max_queries": 2}

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    wrap = None
    if world_size > 1:
        torch.distributed.init_process_group("nccl" if args.device == "cuda" else "gloo")
        if args.device == "cuda":
            args.device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
            torch.cuda.set_device(args.device)

        def wrap(module):
            return torch.nn.parallel.DistributedDataParallel(module)

    recipe = in_context.InContextRecipe(
        steps=args.steps, batch_size=args.batch_size, width=args.width, depth=args.depth
    )
    seeds = [int(s) for s in args.seeds.split(",")]
    definitions = args.definitions.split(",")
    _, datasets = prepare_datasets(args.datasets, fields["length"])
    results: dict[str, dict[str, dict]] = {}
    for number, definition in enumerate(definitions):
        method = ("candidate", "reference")[number]
        for seed in seeds:
            batches = stream_batches(
                args.config, definition, seed, args.batch_size, args.workers, rank, world_size,
                **fields,
            )  # fmt: skip
            model, losses = in_context.train(
                batches, seed=seed, recipe=recipe, device=args.device, wrap=wrap
            )
            if rank == 0:
                print(f"{definition} seed {seed}: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
                scores = in_context.score_model(model, datasets, args.shots, seed, args.device)
                results.setdefault(method, {})[str(seed)] = scores
    if rank == 0:
        for seed in seeds:
            untrained = build_model(seed, args.width, args.depth).to(args.device).eval()
            results.setdefault("random_init", {})[str(seed)] = in_context.score_model(
                untrained, datasets, args.shots, seed, args.device
            )
            results.setdefault("knn", {})[str(seed)] = in_context.score_knn(
                datasets, args.shots, seed
            )
        labels = [f"tasks, class_definition={d}" for d in definitions]
        report = EvaluationReport(
            corpus={"label": labels[0]},
            reference={"label": labels[1]} if len(labels) > 1 else None,
            datasets=[{"name": name} for name in datasets],
            settings={
                "protocol": "in-context",
                "length": fields["length"],
                "shots": args.shots,
                "series": args.steps * args.batch_size * world_size,
                "device": args.device,
                "seeds": seeds,
                "recipe": {"steps": args.steps, "batch_size": args.batch_size * world_size},
            },
            results=results,
            timings={"total": time.perf_counter() - started},
            environment={},
        )
        print(report.format_table())
        if args.out:
            report.to_json(args.out)
    if world_size > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
