"""Measure corpus quality on real data (``cauker evaluate``, ``cauker sweep``; ``cauker[eval]``).

Pretrain an encoder (a small CNN by default, or mantis-tsfm's Mantis)
contrastively on a CauKer corpus, freeze it, and score random-forest and
logistic-regression classifiers fitted on its embeddings of real UCR datasets,
beside a reference corpus (by default the KernelSynth ablation of the same
config), the untrained encoder and the raw series; compare them paired over
datasets and seeds. :func:`sweep` does the same for a grid of configs. The
``cauker evaluate`` and ``cauker sweep`` subcommands are in
:mod:`cauker.cli.evaluation_commands`.

=========================  ====================================================
module                     holds
=========================  ====================================================
``real_datasets``          offline discovery of UCR datasets, resampling
``ucr_files``              reading one UCR file (through sktime, scipy, pandas)
``corpus``                 what a corpus spec names, and its first N series
``protocol``               encoder, device, budget and seeds (presets, checks)
``encoders``               the encoders behind one interface
``cnn_encoder``            the default small CNN and its views and loss
``mantis_encoder``         Mantis from mantis-tsfm
``pretrain``               the contrastive training loop
``probes``                 the random forest and logistic regression
``tasks``                  one (method, seed) run, and running many at once
``run``                    ``evaluate`` = ``prepare``, ``run``, ``report``
``statistics``             paired gap, interval, Wilcoxon test, verdict
``report``                 :class:`EvaluationReport`: table and JSON
``sweep``                  a grid of configs against a reference, resumable
=========================  ====================================================

Importing this package imports neither PyTorch nor scikit-learn; running an
evaluation does, and raises ImportError with the install hint when one is
missing.

Examples
--------
>>> from cauker.evaluation import load_datasets, shipped_datasets
>>> "GunPoint" in shipped_datasets()  # sktime ships it (pip install 'cauker[eval]')
True
>>> gunpoint = load_datasets("GunPoint")[0]
>>> gunpoint.summary()["train"], gunpoint.summary()["test"], gunpoint.classes
(50, 150, ('1', '2'))
"""

from cauker.evaluation.real_datasets import RealDataset, load_datasets, resample, shipped_datasets
from cauker.evaluation.report import EvaluationReport
from cauker.evaluation.run import evaluate, prepare, report, run
from cauker.evaluation.statistics import Comparison, compare

__all__ = [
    "Comparison",
    "EvaluationReport",
    "RealDataset",
    "compare",
    "evaluate",
    "load_datasets",
    "prepare",
    "report",
    "resample",
    "run",
    "shipped_datasets",
]
