"""The encoders ``cauker evaluate`` can pretrain, behind one small interface.

=================  ===========================================  ==========  =========
``--encoder``      network                                      parameters  embedding
=================  ===========================================  ==========  =========
``cnn`` (default)  our ResNet-style CNN (:mod:`.cnn_encoder`)   445k        256
``mantis-small``   mantis-tsfm's ``Mantis8M``, 64-wide, 2 layers  85k         64
``mantis8m``       ``Mantis8M`` at full size (the paper's)       8.1M        256
``mantis``         ``mantis8m`` on a GPU, ``mantis-small`` on a CPU
=================  ===========================================  ==========  =========

Each kind says how to build a seeded network, how to compute its contrastive
loss on a batch (its own views and loss), and how to embed series once frozen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from cauker.evaluation import cnn_encoder, mantis_encoder


@dataclasses.dataclass(frozen=True)
class EncoderKind:
    """How to build, train and use one encoder.

    ``loss(model, batch, recipe, generator, device)`` receives a CPU batch of
    standardised series ``(batch, length)`` and returns the contrastive loss of
    two views of it; ``embed(model, x)`` maps series on the model's device to
    embeddings.
    """

    name: str
    build: Callable[[int, int, str], torch.nn.Module]
    loss: Callable
    embed: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]
    check_length: Callable[[int], None] = lambda length: None
    require: Callable[[], None] = lambda: None


def _cnn_loss(model, batch, recipe, generator, device):
    views = [
        cnn_encoder.make_view(batch, recipe.max_crop, recipe.jitter, generator).to(device)
        for _ in range(2)
    ]
    return cnn_encoder.info_nce(
        model.project(views[0]), model.project(views[1]), recipe.temperature
    )


def _mantis_kind(size: str) -> EncoderKind:
    def build(seed, length, device):
        return mantis_encoder.build_mantis(size, seed=seed, length=length, device=device)

    def loss(model, batch, recipe, generator, device):
        return mantis_encoder.mantis_loss(
            model, batch.to(device), max_crop=recipe.max_crop, temperature=recipe.temperature
        )

    return EncoderKind(
        name=size,
        build=build,
        loss=loss,
        embed=mantis_encoder.mantis_embed,
        check_length=mantis_encoder.check_length,
        require=mantis_encoder.require_mantis,
    )


ENCODERS = {
    "cnn": EncoderKind(
        name="cnn",
        build=lambda seed, length, device: cnn_encoder.build_encoder(seed).to(device),
        loss=_cnn_loss,
        embed=lambda model, x: model(x),
    ),
    "mantis-small": _mantis_kind("mantis-small"),
    "mantis8m": _mantis_kind("mantis8m"),
}


@torch.no_grad()
def embed(kind: EncoderKind, model, series, device: str = "cpu", batch_size: int = 512):
    """Frozen embeddings of ``series`` (array-like ``(n, length)``) as a float32 numpy array."""
    model.eval()
    x = torch.as_tensor(series, dtype=torch.float32)
    parts = [
        kind.embed(model, x[i : i + batch_size].to(device)).float().cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(parts).numpy()
