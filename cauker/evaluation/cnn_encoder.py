"""The small 1-D CNN that stands in for Mantis or MOMENT on a CPU (``--encoder cnn``, default).

A ResNet-style CNN of about 0.45M parameters. It reads two channels, the series
and its first difference, each z-normalised per series inside the model (so any
input scale gives the same embedding, as with Mantis). Four stages halve the
length each time (512 -> 256 -> 128 -> 64 -> 32 steps for the default length);
average and max pooling over time give a 256-wide embedding. The projection
head is used only by the contrastive loss; the frozen embedding is taken before
it, as SimCLR does.

Its contrastive recipe (written here because it is a few lines of torch):
two views of every series, each a random crop of at least ``1 - max_crop`` of
the length resized back by linear interpolation, plus Gaussian jitter, drawn
per series from a seeded generator; NT-Xent (InfoNCE with cosine similarity)
over the ``2 * batch`` views in both directions.

Examples
--------
>>> import torch
>>> model = build_encoder(seed=0)
>>> count_parameters(model)
445184
>>> model(torch.randn(3, 512)).shape
torch.Size([3, 256])
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

#: Channel widths of the stem and the three residual stages.
WIDTHS = (32, 64, 128, 128)
KERNEL_SIZE = 5
PROJECTION_DIM = 128
EPS = 1e-6


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Z-normalise each row of ``x`` (``(batch, length)``); constant rows become 0."""
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, keepdim=True, unbiased=False)
    return (x - mean) / (std + EPS)


def model_input(x: torch.Tensor) -> torch.Tensor:
    """``(batch, length)`` series -> ``(batch, 2, length)``: series and first difference.

    The difference is padded at the front with its first value so both channels
    keep the input length.
    """
    series = standardize(x)
    diff = series[:, 1:] - series[:, :-1]
    diff = torch.cat([diff[:, :1], diff], dim=1)
    return torch.stack([series, standardize(diff)], dim=1)


class ResidualBlock(nn.Module):
    """Two convolutions with batch norm, halving the length, plus a 1x1 shortcut."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        pad = KERNEL_SIZE // 2
        self.conv1 = nn.Conv1d(channels_in, channels_out, KERNEL_SIZE, 2, pad, bias=False)
        self.norm1 = nn.BatchNorm1d(channels_out)
        self.conv2 = nn.Conv1d(channels_out, channels_out, KERNEL_SIZE, 1, pad, bias=False)
        self.norm2 = nn.BatchNorm1d(channels_out)
        self.shortcut = nn.Sequential(
            nn.Conv1d(channels_in, channels_out, 1, 2, bias=False), nn.BatchNorm1d(channels_out)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(h)) + self.shortcut(x))


class Encoder(nn.Module):
    """Series ``(batch, length)`` -> embedding ``(batch, 2 * WIDTHS[-1])``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv1d(2, WIDTHS[0], 7, 2, 3, bias=False),
            nn.BatchNorm1d(WIDTHS[0]),
            nn.ReLU(),
        )
        self.stages = nn.Sequential(
            *(ResidualBlock(a, b) for a, b in zip(WIDTHS[:-1], WIDTHS[1:], strict=True))
        )
        self.embedding_dim = 2 * WIDTHS[-1]
        self.projection = nn.Sequential(
            nn.Linear(self.embedding_dim, self.embedding_dim),
            nn.ReLU(),
            nn.Linear(self.embedding_dim, PROJECTION_DIM),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(model_input(x)))
        return torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """The contrastive head's output for series ``x``."""
        return self.projection(self(x))


def build_encoder(seed: int) -> Encoder:
    """A freshly initialised encoder; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Encoder()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def embed(model: Encoder, series, batch_size: int = 512) -> np.ndarray:
    """Frozen embeddings of ``series`` (array-like ``(n, length)``) as a float32 numpy array."""
    model.eval()
    x = torch.as_tensor(series, dtype=torch.float32)
    parts = [model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(parts).numpy()


# ------------------------------------------------------------------ contrastive recipe


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


def make_view(
    x: torch.Tensor, max_crop: float, jitter: float, generator: torch.Generator
) -> torch.Tensor:
    """One augmented view of standardised series ``x`` (on the CPU)."""
    view = crop_and_resize(x, max_crop, generator)
    return view + jitter * torch.randn(view.shape, generator=generator)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent: row ``i`` of ``a`` must pick row ``i`` of ``b`` among all other views, and back."""
    z = F.normalize(torch.cat([a, b]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(-math.inf)
    n = len(a)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(a.device)
    return F.cross_entropy(logits, targets)
