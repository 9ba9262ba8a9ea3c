"""Contrastive pretraining of an encoder on a synthetic corpus: the training loop.

The recipe follows the one used with Mantis in the CauKer paper, scaled to a
CPU: two views of every series, InfoNCE with temperature 0.1, AdamW with
weight decay 0.05, a linear warm-up then cosine decay, for a fixed number of
steps. The views and the loss are the encoder's own
(:mod:`cauker.evaluation.encoders`). Batches are drawn from a
``torch.Generator`` seeded by the run's seed, and the whole run happens under
torch's global generator seeded the same way (Mantis' views and dropout draw
from it), so a run is reproducible for a given number of threads on a CPU.

The loop is ours rather than ``MantisTrainer.pretrain``'s: see
:mod:`cauker.evaluation.mantis_encoder` for why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from cauker.errors import ParameterError
from cauker.evaluation.cnn_encoder import standardize
from cauker.evaluation.encoders import ENCODERS
from cauker.evaluation.protocol import Recipe


def usable_series(series: np.ndarray) -> np.ndarray:
    """Rows that are finite and not constant (a constant row has no views to contrast)."""
    finite = np.isfinite(series).all(axis=1)
    spread = np.where(finite, np.nan_to_num(series).std(axis=1), 0.0)
    return series[finite & (spread > 1e-6)]


def learning_rate(step: int, recipe: Recipe) -> float:
    """Linear warm-up then cosine decay to zero."""
    warmup = max(1, round(recipe.warmup_fraction * recipe.steps))
    if step < warmup:
        return recipe.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, recipe.steps - warmup)
    return recipe.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))


def optimise(
    model: torch.nn.Module,
    recipe: Recipe,
    loss_at: Callable[[int], torch.Tensor],
    on_steps: Callable[[int], None] | None = None,
    clip_norm: float | None = None,
) -> list[float]:
    """``recipe.steps`` steps of AdamW on ``model``: step ``i`` minimises ``loss_at(i)``
    at :func:`learning_rate` ``(i, recipe)``, gradients clipped to ``clip_norm`` if
    given. Returns the loss of every step; ``on_steps(k)`` is called every 10 steps
    and at the end."""
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )
    losses, pending = [], 0
    for step in range(recipe.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, recipe)  # warm-up, then cosine decay
        loss = loss_at(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        losses.append(loss.item())
        pending += 1
        if on_steps is not None and (pending == 10 or step == recipe.steps - 1):
            on_steps(pending)
            pending = 0
    return losses


def pretrain(
    series: np.ndarray,
    *,
    seed: int,
    recipe: Recipe | None = None,
    encoder: str = "cnn",
    device: str = "cpu",
    on_steps: Callable[[int], None] | None = None,
) -> tuple[torch.nn.Module, list[float]]:
    """Train a fresh ``encoder`` (initialised from ``seed``) on ``series`` ``(n, length)``.

    Returns the encoder (in eval mode) and the loss of every step.
    ``on_steps(k)`` is called as steps complete (for progress bars).
    """
    kind = ENCODERS[encoder]
    recipe = recipe or Recipe()
    data = torch.as_tensor(usable_series(np.asarray(series, dtype=np.float32)))
    if len(data) < 2:
        raise ParameterError(f"series must hold at least 2 non-constant rows, got {len(data)}")
    batch_size = min(recipe.batch_size, len(data))
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = kind.build(seed, data.shape[1], device)
        model.train()
        generator = torch.Generator().manual_seed(seed)
        order, cursor = torch.randperm(len(data), generator=generator), 0

        def loss_at(step: int) -> torch.Tensor:
            nonlocal order, cursor
            if cursor + batch_size > len(order):
                order, cursor = torch.randperm(len(data), generator=generator), 0
            batch = standardize(data[order[cursor : cursor + batch_size]])
            cursor += batch_size
            return kind.loss(model, batch, recipe, generator, device)

        losses = optimise(model, recipe, loss_at, on_steps)
    model.eval()
    return model, losses
