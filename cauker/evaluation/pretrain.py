"""Contrastive pretraining of the encoder on a synthetic corpus.

The recipe follows the one used with Mantis in the CauKer paper, scaled to a
CPU: two views of every series (random crop of at least ``1 - max_crop`` of the
length, resized back by linear interpolation, plus Gaussian jitter), InfoNCE
over the ``2 * batch_size`` views with cosine similarity and temperature 0.1
(SimCLR's NT-Xent), AdamW with weight decay 0.05, a linear warm-up then cosine
decay, for a fixed number of steps. Every random choice comes from one
``torch.Generator`` seeded by the run's seed, so a run is reproducible for a
given number of threads.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from cauker.evaluation.encoder import Encoder, build_encoder, standardize


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one pretraining run."""

    steps: int = 300
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 0.05
    temperature: float = 0.1
    warmup_fraction: float = 0.05
    max_crop: float = 0.2
    jitter: float = 0.05

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.batch_size < 2:
            raise ValueError(
                f"batch_size must be >= 2 (InfoNCE needs negatives), got {self.batch_size!r}"
            )
        checks = {
            "learning_rate": (0.0, math.inf, False),
            "weight_decay": (0.0, math.inf, True),
            "temperature": (0.0, math.inf, False),
            "warmup_fraction": (0.0, 1.0, True),
            "max_crop": (0.0, 1.0, True),
            "jitter": (0.0, math.inf, True),
        }
        for name, (low, high, closed) in checks.items():
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (low <= value if closed else low < value) and value < high
            if not ok:
                bound = ">=" if closed else ">"
                raise ValueError(
                    f"{name} must be a number {bound} {low} and < {high}, got {value!r}"
                )


def usable_series(series: np.ndarray) -> np.ndarray:
    """Rows that are finite and not constant (a constant row has no views to contrast)."""
    finite = np.isfinite(series).all(axis=1)
    spread = np.where(finite, np.nan_to_num(series).std(axis=1), 0.0)
    return series[finite & (spread > 1e-6)]


def crop_and_resize(x: torch.Tensor, max_crop: float, generator: torch.Generator) -> torch.Tensor:
    """A random window of each row (at least ``1 - max_crop`` of it), stretched to full length."""
    batch, length = x.shape
    keep = 1.0 - max_crop * torch.rand(batch, 1, generator=generator)
    width = keep * (length - 1)
    start = torch.rand(batch, 1, generator=generator) * (length - 1 - width)
    positions = start + width * torch.linspace(0.0, 1.0, length).unsqueeze(0)
    left = positions.floor().long().clamp(0, length - 2)
    fraction = positions - left
    return torch.gather(x, 1, left) * (1 - fraction) + torch.gather(x, 1, left + 1) * fraction


def make_view(x: torch.Tensor, recipe: Recipe, generator: torch.Generator) -> torch.Tensor:
    """One augmented view of standardised series ``x``."""
    view = crop_and_resize(x, recipe.max_crop, generator)
    return view + recipe.jitter * torch.randn(view.shape, generator=generator)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent: row ``i`` of ``a`` must pick row ``i`` of ``b`` among all other views, and back."""
    z = F.normalize(torch.cat([a, b]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(-math.inf)
    n = len(a)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, targets)


def learning_rate(step: int, recipe: Recipe) -> float:
    """Linear warm-up then cosine decay to zero."""
    warmup = max(1, round(recipe.warmup_fraction * recipe.steps))
    if step < warmup:
        return recipe.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, recipe.steps - warmup)
    return recipe.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))


def pretrain(
    series: np.ndarray,
    *,
    seed: int,
    recipe: Recipe = Recipe(),
    on_steps: Callable[[int], None] | None = None,
) -> tuple[Encoder, list[float]]:
    """Train a fresh encoder (initialised from ``seed``) on ``series`` ``(n, length)``.

    Returns the encoder and the loss of every step. ``on_steps(k)`` is called
    as steps complete (for progress bars).
    """
    data = torch.as_tensor(usable_series(np.asarray(series, dtype=np.float32)))
    if len(data) < 2:
        raise ValueError(f"series must hold at least 2 non-constant rows, got {len(data)}")
    batch_size = min(recipe.batch_size, len(data))
    model = build_encoder(seed)
    model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )
    generator = torch.Generator().manual_seed(seed)
    order, cursor = torch.randperm(len(data), generator=generator), 0
    losses, pending = [], 0
    for step in range(recipe.steps):
        if cursor + batch_size > len(order):
            order, cursor = torch.randperm(len(data), generator=generator), 0
        batch = standardize(data[order[cursor : cursor + batch_size]])
        cursor += batch_size
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, recipe)
        first, second = make_view(batch, recipe, generator), make_view(batch, recipe, generator)
        loss = info_nce(model.project(first), model.project(second), recipe.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        pending += 1
        if on_steps is not None and (pending == 10 or step == recipe.steps - 1):
            on_steps(pending)
            pending = 0
    model.eval()
    return model, losses
