"""What one evaluation does, fixed before any work: encoder, device, budget and seeds.

A :class:`Protocol` is built and checked by :func:`make_protocol` (every bad
value is a ValueError naming it, raised before anything runs). Unset values
come from a preset:

=====================  =======  =====  =====  =================  ==============================
preset                 series   steps  batch  seeds              when
=====================  =======  =====  =====  =================  ==============================
default                10,000   300    256    0, 1, 2            ``cnn`` or ``mantis-small``
thorough               10,000   300    256    0 to 9             ``--thorough``
paper                  100,000  19,532 512    0                  ``mantis8m`` (``--encoder mantis
                                                                 --device cuda``): 100 epochs,
                                                                 10 of warm-up, as MantisTrainer
=====================  =======  =====  =====  =================  ==============================

This module imports neither PyTorch nor scikit-learn.

Examples
--------
>>> protocol = make_protocol(encoder="mantis", seeds=[0, 1])
>>> protocol.encoder, protocol.series, protocol.recipe.steps, protocol.seeds
('mantis-small', 10000, 300, (0, 1))
>>> make_protocol(steps=0)
Traceback (most recent call last):
...
cauker.errors.ParameterError: steps must be >= 1, got 0
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from cauker.errors import MissingDependencyError, ParameterError
from cauker.validation import check_bool, check_int

ENCODER_NAMES = ("cnn", "mantis", "mantis-small", "mantis8m")

PRESETS: dict[str, dict[str, Any]] = {
    "default": {"series": 10_000, "steps": 300, "batch_size": 256, "seeds": (0, 1, 2)},
    "thorough": {"series": 10_000, "steps": 300, "batch_size": 256, "seeds": tuple(range(10))},
    # Mantis8M as pretrained in the paper: 100K series, MantisTrainer's defaults
    # (100 epochs of batches of 512, 10 epochs of warm-up, learning rate 2e-3).
    "paper": {
        "series": 100_000,
        "steps": math.ceil(100 * 100_000 / 512),
        "batch_size": 512,
        "seeds": (0,),
        "warmup_fraction": 0.1,
    },
}


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
            check_int(name, getattr(self, name), 1)
        if self.batch_size < 2:
            raise ParameterError(
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
                raise ParameterError(
                    f"{name} must be a number {bound} {low} and < {high}, got {value!r}"
                )


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Everything that decides an evaluation's numbers, apart from the corpora and datasets."""

    encoder: str
    device: str
    series: int
    recipe: Recipe
    seeds: tuple[int, ...]
    threads: int = 1

    #: The methods scored besides the corpora (not a field: not in the fingerprint).
    baselines: ClassVar[tuple[str, ...]] = ("random_init", "raw")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["seeds"] = list(self.seeds)
        return out

    def fingerprint(self) -> str:
        """A short hash of everything but the seeds (results of other seeds stay comparable)."""
        data = {k: v for k, v in self.to_dict().items() if k != "seeds"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def check_seeds(seeds: Any) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = (seeds,)
    if not isinstance(seeds, Sequence) or isinstance(seeds, str) or not seeds:
        raise ParameterError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    checked = tuple(check_int("seeds", s, 0) for s in seeds)
    if len(set(checked)) != len(checked):
        raise ParameterError(f"seeds must be distinct, got {list(seeds)!r}")
    return checked


def resolve_encoder(name: Any, device: str = "cpu") -> str:
    """The concrete encoder: ``mantis`` is ``mantis8m`` on a GPU, ``mantis-small`` on a CPU."""
    if not isinstance(name, str) or name.lower() not in ENCODER_NAMES:
        raise ParameterError(f"encoder must be one of {list(ENCODER_NAMES)}, got {name!r}")
    name = name.lower()
    if name == "mantis":
        return "mantis8m" if device.startswith("cuda") else "mantis-small"
    return name


def check_device(device: Any) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; a GPU must be visible to PyTorch."""
    if not isinstance(device, str) or not (
        device in ("cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())
    ):
        raise ParameterError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise ParameterError(f"device={device!r}, but PyTorch sees no CUDA GPU on this machine")
    return device


def require_packages(encoder: str) -> None:
    """ImportError with the install hint when PyTorch (or mantis-tsfm) is missing."""
    needed = ["torch"] + (["mantis"] if encoder.startswith("mantis") else [])
    for module in needed:
        if importlib.util.find_spec(module) is None:
            package = {"torch": "PyTorch", "mantis": "mantis-tsfm"}[module]
            raise MissingDependencyError(
                f"cauker evaluate --encoder {encoder} needs {package}, which is not installed: "
                "pip install 'cauker[eval]'"
            )


def make_protocol(
    *,
    encoder: str = "cnn",
    device: str = "cpu",
    series: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    seeds: Sequence[int] | None = None,
    thorough: bool = False,
    threads: int = 1,
) -> Protocol:
    """Check the arguments and fill the unset ones from the preset (see the module docstring)."""
    check_bool("thorough", thorough)
    device = check_device(device)
    encoder = resolve_encoder(encoder, device)
    require_packages(encoder)
    preset = dict(PRESETS["thorough" if thorough else "default"])
    if encoder == "mantis8m":
        preset.update(PRESETS["paper"])
        if thorough:
            preset["seeds"] = (0, 1, 2)
    chosen = {"series": series, "steps": steps, "batch_size": batch_size, "seeds": seeds}
    values = {k: preset[k] if v is None else v for k, v in chosen.items()}
    recipe_fields = {"steps": values["steps"], "batch_size": values["batch_size"]}
    if "warmup_fraction" in preset:
        recipe_fields["warmup_fraction"] = preset["warmup_fraction"]
    return Protocol(
        encoder=encoder,
        device=device,
        series=check_int("series", values["series"], 2),
        recipe=Recipe(**recipe_fields),
        seeds=check_seeds(values["seeds"]),
        threads=check_int("threads", threads, 1),
    )
