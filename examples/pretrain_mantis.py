"""Pretrain Mantis-8M on a cauker corpus with mantis-tsfm's MantisTrainer, as in the CauKer paper.

``MantisTrainer.pretrain``'s defaults are the paper's recipe: two random
crop-and-resize views of each series (crop up to 20%), InfoNCE with cosine
similarity and temperature 0.1, AdamW with weight decay 0.05, a warm-up then
cosine learning rate; Mantis z-scores every series inside the model. It takes
the corpus as a ``datasets.Dataset`` of ``(1, 512)`` rows in its ``data``
column, which ``cauker.as_mantis`` makes from memory-mapped Arrow IPC files
without reading the corpus into memory (each channel of a multivariate corpus
is one such row), and splits it over the GPUs itself (``DistributedSampler``).

On GPUs, write the corpus once, then memory-map it on every rank::

    pip install cauker mantis-tsfm
    cauker generate 100k --format arrow --output-dir cauker-100k --num-proc 8
    torchrun --nproc_per_node=8 examples/pretrain_mantis.py \\
        --corpus cauker-100k/train --out mantis8m-cauker-100k.pt

On a CPU, a smoke run (a small network, 64 series generated in memory, one epoch)::

    python examples/pretrain_mantis.py --tiny --out /tmp/mantis.pt
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pyarrow as pa
import torch
from mantis.architecture import Mantis8M
from mantis.trainer import MantisTrainer

import cauker


def load_series(corpus: str | None, config: str, num_series: int | None):
    """The corpus as ``(1, L)`` rows that MantisTrainer reads: memory-mapped IPC files
    (nothing is read until a batch asks for it), or rows generated here."""
    if corpus:
        path = Path(corpus)
        files = sorted(path.glob("*.arrow")) if path.is_dir() else [path]
        tables = [pa.ipc.open_file(pa.memory_map(str(f))).read_all() for f in files]
        table = pa.concat_tables(tables)  # views of the maps: no copy
        if num_series:
            table = table.slice(0, num_series)
    else:
        table = cauker.generate(cauker.named_config(config, num_series=num_series))
    return cauker.as_mantis(table, per_channel=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="a folder (or file) of Arrow IPC files, e.g. out/train")
    parser.add_argument("--config", default="100k", help="generate this config if no --corpus")
    parser.add_argument("--num-series", type=int, help="use only the first series")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=512, help="per GPU")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--out", help="checkpoint file (written by rank 0)")
    parser.add_argument("--tiny", action="store_true", help="a CPU smoke run")
    args = parser.parse_args()
    if args.tiny:
        args.num_series = args.num_series or 64
        args.epochs, args.batch_size = 1, 32

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    cuda = torch.cuda.is_available()
    if distributed:
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
        local_rank = int(os.environ["LOCAL_RANK"])
        device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
    else:
        device = torch.device("cuda" if cuda else "cpu")

    x = load_series(args.corpus, args.config, args.num_series)
    if args.tiny:
        network = Mantis8M(
            hidden_dim=32, transf_depth=1, transf_num_heads=2, transf_mlp_dim=32,
            transf_dim_head=16, device=device, pre_training=True,
        )  # fmt: skip
    else:
        network = Mantis8M(device=device, pre_training=True)  # Mantis-8M, with its projector
    trainer = MantisTrainer(device=device, network=network)
    trainer.pretrain(
        x,
        num_epochs=args.epochs,
        batch_size=args.batch_size,
        base_learning_rate=args.learning_rate,
        data_parallel=distributed,
        file_name=args.out,
    )
    if not distributed or torch.distributed.get_rank() == 0:
        params = sum(p.numel() for p in network.parameters())
        print(
            f"pretrained Mantis ({params:,} parameters) on {len(x):,} series of shape "
            f"{tuple(x[0]['data'].shape)}"
        )
        if args.out:
            print(f"checkpoint: {args.out}")
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
