"""A small in-context classifier (PyTorch): labelled context and queries in, query labels out.

No training at test time: one forward pass over a task's labelled context
(``support``) and its unlabelled queries gives the queries' class scores.

- **Per-series encoder**: each channel, z-normalised, with its first
  difference, through a 1-D CNN (four stride-2 convolutions, average and max
  pooling): one ``width``-wide vector per channel; a sample's channels are
  averaged (univariate and multivariate tasks alike).
- **Label embeddings**: each class of a task gets a random code (a standard
  normal vector drawn per task: codes, not a table, so any number of classes
  can be given, 52 as well as 2), mapped by a learned linear layer and added to
  its context samples' embeddings. Queries get a learned "unknown" embedding.
- **Transformer**: ``depth`` pre-norm blocks over the context and the queries;
  context tokens attend to the context, each query to the context and itself
  (queries never see one another, so they can be scored in any chunks).
- **Head**: the score of class ``c`` for a query is the scaled dot product of
  the query's output with the mean output of class ``c``'s context tokens.

About 0.2M parameters with the defaults, sized for a CPU; ``width`` and
``depth`` scale it up.

Examples
--------
>>> import torch
>>> model = InContextClassifier(width=32, depth=1)
>>> support, labels = torch.randn(6, 1, 128), torch.tensor([0, 1, 2, 0, 1, 2])
>>> scores = model(support, labels, torch.randn(4, 1, 128), classes=3)
>>> scores.shape
torch.Size([4, 3])
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-6


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Z-normalise the last axis; a constant series becomes 0."""
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, keepdim=True, unbiased=False)
    return (x - mean) / (std + EPS)


class SeriesEncoder(nn.Module):
    """``(n, channels, length)`` -> ``(n, width)``: a CNN per channel, channels averaged."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        widths = (2, width // 2, width, width, width)
        layers: list[nn.Module] = []
        for a, b, k in zip(widths[:-1], widths[1:], (7, 5, 5, 3)):
            layers += [nn.Conv1d(a, b, k, stride=2, padding=k // 2), nn.GELU()]
        self.convolutions = nn.Sequential(*layers)
        self.out = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, channels, length = x.shape
        series = standardize(x.reshape(n * channels, length))
        diff = torch.diff(series, dim=-1, prepend=series[:, :1])
        h = self.convolutions(torch.stack([series, standardize(diff)], dim=1))
        h = self.out(torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1))
        return h.reshape(n, channels, -1).mean(dim=1)


class Block(nn.Module):
    """A pre-norm transformer block with a given attention mask."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        tokens, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(tokens, 3, self.heads, -1).unbind(1)
        attended = F.scaled_dot_product_attention(
            q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), attn_mask=allowed
        )
        x = x + self.proj(attended.transpose(0, 1).reshape(tokens, width))
        return x + self.mlp(self.norm2(x))


class InContextClassifier(nn.Module):
    """Scores ``(queries, classes)`` of a task from its labelled context (see the module)."""

    def __init__(self, width: int = 64, depth: int = 3, heads: int = 4, codes: int = 32) -> None:
        super().__init__()
        self.encoder = SeriesEncoder(width)
        self.codes = codes
        self.label = nn.Linear(codes, width)
        self.unknown = nn.Parameter(torch.zeros(width))
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.scale = 1.0 / math.sqrt(width)

    def forward(
        self,
        support: torch.Tensor,
        labels: torch.Tensor,
        query: torch.Tensor,
        classes: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``support`` ``(s, channels, length)`` with ``labels`` in ``[0, classes)``, and
        ``query`` ``(q, channels, length)``: the queries' class scores ``(q, classes)``.
        The label codes come from ``generator`` (the global generator if None)."""
        embedded = self.encoder(torch.cat([support, query]))
        return self.attend(embedded, labels, classes, generator)

    def attend(
        self,
        embedded: torch.Tensor,
        labels: torch.Tensor,
        classes: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The class scores of a task whose series are already encoded: ``embedded``
        holds the context (``len(labels)`` rows), then the queries."""
        s = len(labels)
        codes = torch.randn(classes, self.codes, generator=generator).to(embedded.device)
        context = embedded[:s] + self.label(codes)[labels]
        tokens = torch.cat([context, embedded[s:] + self.unknown])
        n = len(tokens)
        allowed = torch.zeros(n, n, dtype=torch.bool, device=tokens.device)
        allowed[:, :s] = True  # everyone sees the context
        allowed[torch.arange(s, n), torch.arange(s, n)] = True  # and a query itself
        for block in self.blocks:
            tokens = block(tokens, allowed)
        tokens = self.norm(tokens)
        one_hot = F.one_hot(labels, classes).to(tokens.dtype)
        prototypes = (one_hot.T @ tokens[:s]) / one_hot.sum(dim=0).clamp(min=1)[:, None]
        return self.scale * tokens[s:] @ prototypes.T


class EpisodeLoss(nn.Module):
    """The training objective as a module (so that DDP can wrap it): the mean
    cross-entropy of the queries' labels over a batch of tasks, every series of
    the batch encoded in one pass when their shapes agree.

    A task is ``(series, labels, query_labels, classes)``: its context then its
    queries ``(s + q, channels, length)``, and their labels."""

    def __init__(self, model: InContextClassifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, tasks: list[tuple], generator: torch.Generator | None = None):
        shapes = {series.shape[1:] for series, *_ in tasks}
        if len(shapes) == 1:
            embedded = self.model.encoder(torch.cat([series for series, *_ in tasks]))
            pieces = torch.split(embedded, [len(series) for series, *_ in tasks])
        else:  # channel counts differ: one pass per task
            pieces = [self.model.encoder(series) for series, *_ in tasks]
        losses = [
            F.cross_entropy(self.model.attend(embedded, labels, classes, generator), targets)
            for embedded, (_, labels, targets, classes) in zip(pieces, tasks)
        ]
        return torch.stack(losses).mean()


def build_model(seed: int, width: int = 64, depth: int = 3) -> InContextClassifier:
    """A freshly initialised model; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return InContextClassifier(width=width, depth=depth)
