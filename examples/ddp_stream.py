"""Stream a cauker corpus into a plain PyTorch DDP training loop, and resume it.

Every rank generates its own rows only (the graphs ``rank mod world_size``; its
DataLoader workers share them), nothing is written to disk, and a checkpoint
holds the data loader's position, so a preempted job continues with exactly
the next rows. The model is a small 1-D CNN encoder trained as in the CauKer
paper: InfoNCE (cosine, temperature 0.1) between two random crop-and-resize
views of each series, AdamW with weight decay 0.05.

On 8 GPUs, an endless corpus (fresh series for every step)::

    pip install cauker torchdata
    torchrun --nproc_per_node=8 examples/ddp_stream.py --endless --steps 100000 \\
        --batch-size 256 --workers 4 --checkpoint-dir ckpt

(Run the same command again after a preemption: it resumes from ``ckpt``.)

On a CPU, with the gloo backend (what the tests run)::

    torchrun --nproc_per_node=2 examples/ddp_stream.py --tiny --log-dir seen
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import cauker


class Encoder(nn.Module):
    """A small 1-D CNN: z-scored series in, an embedding out."""

    def __init__(self, width: int = 64, dim: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, width, 7, padding=3),
            nn.GELU(),
            nn.Conv1d(width, width, 5, padding=2, stride=2),
            nn.GELU(),
            nn.Conv1d(width, width, 3, padding=1, stride=2),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(width, dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-5)
        return self.net(x)


def crop_resize(x: torch.Tensor, max_crop: float = 0.2) -> torch.Tensor:
    """A random crop of (1 - up to max_crop) of the series, resized back."""
    length = x.shape[-1]
    kept = int(length * (1 - float(torch.empty(1).uniform_(0, max_crop))))
    start = int(torch.randint(0, length - kept + 1, (1,)))
    return F.interpolate(x[..., start : start + kept], size=length, mode="linear")


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(a), device=a.device))


def data_loader(args, rank: int, world_size: int):
    """This rank's part of the corpus, streamed, in a loader whose position can be saved."""
    stream = cauker.load_dataset(
        args.config,
        split="train",
        streaming=True,
        rank=rank,  # any world size; each rank generates only its part
        world_size=world_size,
        num_series=None if args.endless else args.num_series,
        length=args.length,
    )
    stream = stream.select_columns(["index", "target"]).with_format("torch")
    try:
        from torchdata.stateful_dataloader import StatefulDataLoader as Loader
    except ImportError:  # then no resume: pip install torchdata
        from torch.utils.data import DataLoader as Loader
    return Loader(stream, batch_size=args.batch_size, num_workers=args.workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="1m")
    parser.add_argument("--num-series", type=int, default=None, help="default: the config's")
    parser.add_argument("--endless", action="store_true", help="num_series=None: rows forever")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--batch-size", type=int, default=256, help="per rank")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers per rank")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--checkpoint-dir", help="save here at the end, resume from here")
    parser.add_argument("--log-dir", help="write the row indices each rank trained on")
    parser.add_argument("--tiny", action="store_true", help="a CPU smoke run")
    args = parser.parse_args()
    if args.tiny:
        args.config, args.length, args.batch_size, args.workers = "10k", 64, 8, 0
        args.num_series = args.num_series or 96
    if args.endless and args.steps is None:
        parser.error("--endless needs --steps")

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(rank)  # different views on each rank

    model = DistributedDataParallel(Encoder().to(device), device_ids=[local_rank] if cuda else None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.05)
    loader = data_loader(args, rank, world_size)
    step = 0
    checkpoint = Path(args.checkpoint_dir, f"rank-{rank}.pt") if args.checkpoint_dir else None
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        loader.load_state_dict(state["loader"])  # the next rows, none generated twice
        step = state["step"]

    seen = []
    batches = iter(loader)
    with model.join():  # the ranks' parts may differ by one graph: uneven last steps
        while args.steps is None or step < args.steps:  # never fetch a batch left unused
            batch = next(batches, None)
            if batch is None:
                break
            x = batch["target"].to(device).unsqueeze(1)  # (batch, 1, length)
            views = model(torch.cat([crop_resize(x), crop_resize(x)]))  # one forward per step
            loss = info_nce(*views.chunk(2))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += batch["index"].tolist()
            step += 1
            if rank == 0 and step % 100 == 0:
                print(f"step {step}: loss {loss.item():.4f}", flush=True)

    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "model": model.module.state_dict(),
            "optimizer": optimizer.state_dict(),
            "loader": loader.state_dict(),
            "step": step,
        }
        torch.save(state, checkpoint)
    if args.log_dir:
        log = Path(args.log_dir, f"rank-{rank}.txt")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write("".join(f"{i}\n" for i in seen))
    print(f"rank {rank}/{world_size}: {len(seen)} rows in this run, step {step}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
