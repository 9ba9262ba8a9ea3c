"""The result of an evaluation: accuracies, the comparison rule, a table and JSON.

Accuracies are stored as ``results[method][seed][dataset][classifier]`` in
percent. Methods are ``candidate`` (the evaluated corpus), ``reference`` (by
default the KernelSynth ablation of the same config), ``random_init`` (the same
encoder, untrained) and ``raw`` (the classifiers on the resampled series).

Seed ``s`` fixes everything random in one run: the corpus draw (a config's
seed is shifted by ``s``; a Parquet corpus stays as it is), the encoder's
initialisation, the views and batches, and the random forest. The spread
across seeds therefore measures the noise of the whole procedure.

Decision rule (see :meth:`EvaluationReport.compare`): the candidate is
*better* than the reference when its mean accuracy, averaged over the
pretraining seeds, exceeds the reference's by at least ``max(MIN_DELTA, seed
spread)`` points **and** it wins on more datasets than it loses; *worse* is the
mirror image; anything else is *no clear difference*. The seed spread is the
larger of the two methods' ranges across seeds. ``MIN_DELTA`` (1.5 points)
sits above the gaps measured between reasonable GP corpora and between two
draws of one config (up to 1.3 points), and below those of a white-noise corpus
(3.5) and of an untrained encoder (11); see ``NOTES.md``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("candidate", "reference", "random_init", "raw")
CLASSIFIER_NAMES = {"rf": "random forest", "logreg": "logistic regression"}

#: Smallest gap (accuracy points) read as a real difference between corpora.
MIN_DELTA = 1.5
#: Per-dataset differences below this (points) count as ties.
TIE_TOLERANCE = 0.5


@dataclasses.dataclass
class EvaluationReport:
    """Everything an evaluation measured, and how."""

    corpus: dict[str, Any]
    reference: dict[str, Any] | None
    datasets: list[dict[str, Any]]
    settings: dict[str, Any]
    results: dict[str, dict[str, dict[str, dict[str, float]]]]
    timings: dict[str, float]
    environment: dict[str, str]
    notes: list[str] = dataclasses.field(default_factory=list)

    # ------------------------------------------------------------ numbers

    @property
    def methods(self) -> list[str]:
        return [m for m in METHODS if m in self.results]

    @property
    def dataset_names(self) -> list[str]:
        return [d["name"] for d in self.datasets]

    def label(self, method: str) -> str:
        if method == "candidate":
            return self.corpus["label"]
        if method == "reference" and self.reference is not None:
            return self.reference["label"]
        return {"random_init": "random init (no pretraining)", "raw": "raw series"}[method]

    def seed_means(self, method: str, classifier: str = "rf") -> dict[str, float]:
        """Mean accuracy over datasets, per seed."""
        return {
            seed: float(np.mean([scores[d][classifier] for d in self.dataset_names]))
            for seed, scores in self.results[method].items()
        }

    def mean(self, method: str, classifier: str = "rf") -> float:
        """Mean accuracy over datasets and seeds."""
        return float(np.mean(list(self.seed_means(method, classifier).values())))

    def per_dataset(self, method: str, classifier: str = "rf") -> dict[str, float]:
        """Accuracy per dataset, averaged over seeds."""
        seeds = self.results[method].values()
        return {d: float(np.mean([s[d][classifier] for s in seeds])) for d in self.dataset_names}

    def compare(
        self, method: str = "candidate", against: str = "reference", classifier: str = "rf"
    ) -> dict[str, Any]:
        """Apply the decision rule of the module docstring to two methods."""
        a, b = self.seed_means(method, classifier), self.seed_means(against, classifier)
        delta = float(np.mean(list(a.values())) - np.mean(list(b.values())))
        spread = max(max(a.values()) - min(a.values()), max(b.values()) - min(b.values()))
        threshold = max(MIN_DELTA, spread)
        da, db = self.per_dataset(method, classifier), self.per_dataset(against, classifier)
        diffs = [da[d] - db[d] for d in self.dataset_names]
        wins = sum(x > TIE_TOLERANCE for x in diffs)
        losses = sum(x < -TIE_TOLERANCE for x in diffs)
        if delta >= threshold and wins > losses:
            verdict = "better"
        elif delta <= -threshold and losses > wins:
            verdict = "worse"
        else:
            verdict = "no clear difference"
        return {
            "method": method,
            "against": against,
            "classifier": classifier,
            "delta": delta,
            "seed_spread": spread,
            "threshold": threshold,
            "wins": wins,
            "losses": losses,
            "ties": len(diffs) - wins - losses,
            "verdict": verdict,
        }

    def comparisons(self) -> list[dict[str, Any]]:
        """The candidate against every other method, for each classifier."""
        out = []
        for against in self.methods[1:]:
            for classifier in CLASSIFIER_NAMES:
                out.append(self.compare("candidate", against, classifier))
        return out

    # ------------------------------------------------------------ output

    def to_dict(self) -> dict[str, Any]:
        summary = {
            method: {
                classifier: {
                    "mean": self.mean(method, classifier),
                    "per_seed": self.seed_means(method, classifier),
                    "per_dataset": self.per_dataset(method, classifier),
                }
                for classifier in CLASSIFIER_NAMES
            }
            for method in self.methods
        }
        return {
            "corpus": self.corpus,
            "reference": self.reference,
            "datasets": self.datasets,
            "settings": self.settings,
            "results": self.results,
            "summary": summary,
            "comparisons": self.comparisons(),
            "decision_rule": {"min_delta": MIN_DELTA, "tie_tolerance": TIE_TOLERANCE},
            "timings": self.timings,
            "environment": self.environment,
            "notes": self.notes,
        }

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def format_table(self) -> str:
        """The human-readable report: means per seed, per dataset, and the verdicts."""
        seeds = list(self.results[self.methods[0]])
        names = self.dataset_names
        width = max(len(self.label(m)) for m in self.methods) + 2
        block = 8 * (len(seeds) + 1) + 2
        lines = [
            f"Zero-shot accuracy (%) on {len(names)} real UCR datasets, series resampled to "
            f"{self.settings['length']}; frozen encoder, classifiers fit on train embeddings",
            f"pretraining: {self.settings['series']} series per corpus, {self.settings['steps']} "
            f"steps x {self.settings['batch_size']} series, seeds {', '.join(seeds)}",
            "",
            " " * width + "".join(f"{CLASSIFIER_NAMES[c]:<{block}}" for c in CLASSIFIER_NAMES),
        ]
        cells = "".join(f"{'seed ' + s:>8}" for s in seeds) + f"{'mean':>8}  "
        head = f"{'method':<{width}}" + cells * len(CLASSIFIER_NAMES)
        lines += [head.rstrip(), "-" * len(head.rstrip())]
        for method in self.methods:
            row = f"{self.label(method):<{width}}"
            for classifier in CLASSIFIER_NAMES:
                per_seed = self.seed_means(method, classifier)
                row += "".join(f"{per_seed[s]:>8.2f}" for s in seeds)
                row += f"{self.mean(method, classifier):>8.2f}  "
            lines.append(row.rstrip())
        short = {m: self._short_label(m) for m in self.methods}
        col = max(14, *(len(v) + 2 for v in short.values()))
        name_width = max(7, *(len(n) for n in names)) + 2
        lines += [
            "",
            "Per dataset, random forest / logistic regression (mean over seeds):",
            f"{'dataset':<{name_width}}" + "".join(f"{short[m]:>{col}}" for m in self.methods),
        ]
        for name in names:
            row = "".join(f"{self._cell(m, name):>{col}}" for m in self.methods)
            lines.append(f"{name:<{name_width}}{row}")
        if len(self.methods) > 1:
            lines += [
                "",
                f"Verdicts (better/worse needs a gap >= max({MIN_DELTA}, seed spread) points and "
                "more datasets won than lost):",
            ]
        for against in self.methods[1:]:
            lines.append(f"  candidate vs {self.label(against)}:")
            for classifier in CLASSIFIER_NAMES:
                c = self.compare("candidate", against, classifier)
                lines.append(
                    f"    {CLASSIFIER_NAMES[classifier]:<20} {c['delta']:+6.2f} points "
                    f"(threshold {c['threshold']:.2f}), won/lost/tied "
                    f"{c['wins']}/{c['losses']}/{c['ties']} -> {c['verdict']}"
                )
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"wall time: {self.timings.get('total', 0.0):.0f} s")
        return "\n".join(lines)

    def _short_label(self, method: str) -> str:
        return {
            "candidate": "candidate",
            "reference": "reference",
            "random_init": "random init",
            "raw": "raw series",
        }[method]

    def _cell(self, method: str, dataset: str) -> str:
        rf = self.per_dataset(method, "rf")[dataset]
        lr = self.per_dataset(method, "logreg")[dataset]
        return f"{rf:.1f} / {lr:.1f}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (derived fields are recomputed)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})
