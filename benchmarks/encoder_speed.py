"""Seconds per pretraining step of each encoder, side by side in one process.

Alternates the encoders (``cnn``, ``mantis-small``; ``--full`` adds
``mantis8m``) twice on the same random series, one PyTorch thread, batches of
256 at length 512, and prints wall and CPU seconds per step and the ratio to
the CNN measured in the same run (the machine is shared: only ratios carry).

    python benchmarks/encoder_speed.py [--steps 15] [--full]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from results import Table, record

from cauker.evaluation.pretrain import pretrain
from cauker.evaluation.protocol import Recipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--full", action="store_true", help="also Mantis8M at full size (slow)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    series = np.random.default_rng(0).standard_normal((2048, 512)).astype(np.float32)
    encoders = ["cnn", "mantis-small"] + (["mantis8m"] if args.full else [])
    timings: dict[str, list[tuple[float, float]]] = {e: [] for e in encoders}
    for _ in range(2):
        for encoder in encoders:
            wall, cpu = time.perf_counter(), time.process_time()
            pretrain(series, seed=0, encoder=encoder, recipe=Recipe(steps=args.steps))
            seconds = (time.perf_counter() - wall, time.process_time() - cpu)
            timings[encoder].append((seconds[0] / args.steps, seconds[1] / args.steps))
    base = np.mean([w for w, _ in timings["cnn"]])
    table = Table("Seconds per pretraining step", ["encoder", "wall s/step", "CPU s/step", "x cnn"])
    for encoder, rows in timings.items():
        wall, cpu = np.mean([w for w, _ in rows]), np.mean([c for _, c in rows])
        table.add(encoder, f"{wall:.3f}", f"{cpu:.3f}", f"{wall / base:.2f}")
    print(table.markdown())
    note = f"batches of 256 series of length 512, {args.steps} steps, one PyTorch thread"
    record(__file__, table, notes=[note])


if __name__ == "__main__":
    main()
