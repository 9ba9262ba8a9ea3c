"""Mantis, the paper's encoder, from ``mantis-tsfm`` (``--encoder mantis``).

The network, the contrastive loss and the views are mantis-tsfm's own:
:class:`mantis.architecture.Mantis8M` (a patch tokenizer over the series, its
first difference and per-patch mean and standard deviation, then a ViT-style
transformer whose class token is the embedding, and a projector used only
while pretraining), :class:`~mantis.trainer.trainer_utils.criterion.ContrastiveLoss`
(InfoNCE, cosine similarity, temperature 0.1) and
:class:`~mantis.trainer.trainer_utils.augmentation.RandomCropResize` (one crop
of up to 20% per batch, resized back). Series are z-normalised per series
before they enter the network, as the UCR archive's series are.

Two sizes:

- ``mantis8m``: the published architecture at full size (8.1M parameters,
  256-wide tokens, 6 layers of 8 heads), the paper's protocol on a GPU;
- ``mantis-small``: the same class at 64-wide tokens, 2 layers of 4 heads
  (85k parameters), which trains at about the speed of the default CNN on a
  CPU core.

``MantisTrainer.pretrain`` is not called: it draws its views from the global
random generator, counts its 10-epoch warm-up in epochs (longer than a CPU
budget of a few epochs) and reports progress per epoch only. The training
loop of :mod:`cauker.evaluation.pretrain` runs these components instead, with
seeded batches and a step-based warm-up and cosine decay of the same shape.

Examples
--------
>>> import torch
>>> model = build_mantis("mantis-small", seed=0, length=512)
>>> sum(p.numel() for p in model.parameters())
85056
>>> mantis_embed(model, torch.randn(3, 512)).shape
torch.Size([3, 64])
"""

from __future__ import annotations

import torch

from cauker.errors import MissingDependencyError, ParameterError

#: ``Mantis8M`` keyword arguments per size (the full size is the class's default).
SIZES = {
    "mantis8m": {},
    "mantis-small": {
        "hidden_dim": 64,
        "transf_depth": 2,
        "transf_num_heads": 4,
        "transf_mlp_dim": 128,
        "transf_dim_head": 16,
        "hidden_dim_scalar_enc": 16,
    },
}
#: Mantis splits a series into this many patches; the length must be a multiple.
NUM_PATCHES = 32


def require_mantis() -> None:
    """Raise ImportError with the install hint when mantis-tsfm is missing."""
    import importlib.util

    if importlib.util.find_spec("mantis") is None:
        raise MissingDependencyError(
            "--encoder mantis needs mantis-tsfm, which is not installed: pip install 'cauker[eval]'"
        )


def check_length(length: int) -> None:
    if length % NUM_PATCHES:
        raise ParameterError(
            f"encoder mantis needs a corpus length that is a multiple of {NUM_PATCHES}, "
            f"got {length}"
        )


def build_mantis(size: str, *, seed: int, length: int, device: str = "cpu"):
    """A freshly initialised ``Mantis8M`` of ``size``; the same seed gives the same weights."""
    from mantis.architecture import Mantis8M

    check_length(length)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Mantis8M(
            seq_len=length,
            num_patches=NUM_PATCHES,
            device="cpu",
            pre_training=False,
            **SIZES[size],
        )
    return model.to(device)


def _channels(x: torch.Tensor) -> torch.Tensor:
    from cauker.evaluation.cnn_encoder import standardize

    return standardize(x).unsqueeze(1)


def mantis_embed(model, x: torch.Tensor) -> torch.Tensor:
    """The frozen embedding (class token) of series ``(batch, length)``."""
    return model(_channels(x))


def mantis_loss(model, batch: torch.Tensor, *, max_crop: float, temperature: float):
    """Mantis' contrastive loss on two ``RandomCropResize`` views of ``batch``.

    The views draw from torch's global generator, which the training loop seeds.
    """
    from mantis.trainer.trainer_utils.augmentation import RandomCropResize
    from mantis.trainer.trainer_utils.criterion import ContrastiveLoss

    augment = RandomCropResize(crop_rate_range=[0, max_crop], size=batch.shape[-1])
    x = _channels(batch)
    first, second = augment(x), augment(x)
    criterion = ContrastiveLoss(temperature=temperature, device=batch.device)
    return criterion(model.prj(model(first)), model.prj(model(second)))
