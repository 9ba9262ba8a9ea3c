"""Measure corpus quality on real data (``cauker evaluate``; needs ``cauker[eval]``).

Pretrain a small CNN encoder with InfoNCE on a CauKer corpus, freeze it, and
score random-forest and logistic-regression classifiers fitted on its
embeddings of real UCR datasets, beside a reference corpus (by default the
KernelSynth ablation of the same config), the untrained encoder and the raw
series.

Importing this package does not import PyTorch; :func:`evaluate` does, and
raises ImportError with the install hint when it is missing.

Examples
--------
>>> from cauker.evaluation import evaluate  # doctest: +SKIP
>>> report = evaluate("10k")  # doctest: +SKIP
>>> print(report.format_table())  # doctest: +SKIP
"""

from cauker.evaluation.real_datasets import RealDataset, load_datasets, resample, shipped_datasets
from cauker.evaluation.report import EvaluationReport
from cauker.evaluation.run import evaluate

__all__ = [
    "EvaluationReport",
    "RealDataset",
    "evaluate",
    "load_datasets",
    "resample",
    "shipped_datasets",
]
