"""The result of an evaluation: accuracies, paired comparisons, a table and JSON.

Accuracies are stored as ``results[method][seed][dataset][classifier]`` in
percent. Methods are ``candidate`` (the evaluated corpus), ``reference`` (by
default the KernelSynth ablation of the same config), ``random_init`` (the same
encoder, untrained) and ``raw`` (the classifiers on the resampled series).

Seed ``s`` fixes everything random in one run: the corpus draw (a config's
seed is shifted by ``s``; a Parquet corpus stays as it is), the encoder's
initialisation, the batches and views, and the random forest. The same seed
is used for every method, so two methods are compared pairwise per (dataset,
seed): see :mod:`cauker.evaluation.statistics` for the interval, the test and
the verdict ("better", "worse" or "no clear difference").

Examples
--------
>>> report = EvaluationReport.from_dict({
...     "corpus": {"label": "candidate"}, "reference": {"label": "reference"},
...     "datasets": [{"name": f"d{i}"} for i in range(8)],
...     "settings": {"length": 512, "series": 10000, "seeds": [0],
...                  "recipe": {"steps": 300, "batch_size": 256}, "encoder": "cnn"},
...     "results": {
...         "candidate": {"0": {f"d{i}": {"rf": 80.0 + i, "logreg": 80.0} for i in range(8)}},
...         "reference": {"0": {f"d{i}": {"rf": 78.0, "logreg": 80.0} for i in range(8)}},
...     },
...     "timings": {}, "environment": {}})
>>> report.compare().verdict
'better'
>>> report.compare(classifier="logreg").verdict
'no clear difference'
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from cauker.evaluation import statistics
from cauker.evaluation.statistics import Comparison

METHODS = ("candidate", "reference", "random_init", "raw", "knn")
CLASSIFIER_NAMES = {"rf": "random forest", "logreg": "logistic regression"}
#: The in-context protocol's one "classifier": the model's own prediction.
IN_CONTEXT_NAMES = {"in_context": "in-context"}
SHORT_LABELS = {
    "candidate": "candidate",
    "reference": "reference",
    "random_init": "random init",
    "raw": "raw series",
    "knn": "1-NN",
}


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
    def in_context(self) -> bool:
        """Whether this is the in-context protocol's report."""
        return self.settings.get("protocol") == "in-context"

    @property
    def classifier_names(self) -> dict[str, str]:
        """The classifiers of this protocol, by key."""
        return IN_CONTEXT_NAMES if self.in_context else CLASSIFIER_NAMES

    @property
    def dataset_names(self) -> list[str]:
        return [d["name"] for d in self.datasets]

    def label(self, method: str) -> str:
        if method == "candidate":
            return self.corpus["label"]
        if method == "reference" and self.reference is not None:
            return self.reference["label"]
        return {
            "random_init": "random init (no pretraining)",
            "raw": "raw series",
            "knn": "1-NN, same context",
        }[method]

    def seed_means(self, method: str, classifier: str = "rf") -> dict[str, float]:
        """Mean accuracy over datasets, per seed."""
        return statistics.seed_means(self.results[method], classifier)

    def mean(self, method: str, classifier: str = "rf") -> float:
        """Mean accuracy over datasets and seeds."""
        return statistics.mean_accuracy(self.results[method], classifier)

    def per_dataset(self, method: str, classifier: str = "rf") -> dict[str, float]:
        """Accuracy per dataset, averaged over seeds."""
        seeds = list(self.results[method].values())
        return {d: sum(s[d][classifier] for s in seeds) / len(seeds) for d in self.dataset_names}

    def compare(
        self, method: str = "candidate", against: str = "reference", classifier: str | None = None
    ) -> Comparison:
        """The paired comparison of two methods (see :mod:`cauker.evaluation.statistics`)
        on ``classifier`` (default: the protocol's first)."""
        classifier = classifier or next(iter(self.classifier_names))
        return statistics.compare_tables(self.results[method], self.results[against], classifier)

    def comparisons(self) -> list[dict[str, Any]]:
        """The candidate against every other method, for each classifier."""
        out = []
        for against in self.methods[1:]:
            for classifier in self.classifier_names:
                c = self.compare("candidate", against, classifier)
                out.append(
                    {"method": "candidate", "against": against, "classifier": classifier}
                    | c.to_dict()
                )
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
                for classifier in self.classifier_names
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
            "decision_rule": {
                "alpha": statistics.ALPHA,
                "interval": "95% two-level bootstrap over datasets and seeds",
                "test": "Wilcoxon signed-rank over datasets (seed-averaged differences)",
                "tie_tolerance": statistics.TIE_TOLERANCE,
            },
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
        s = self.settings
        recipe = s.get("recipe", {})
        width = max(len(self.label(m)) for m in self.methods) + 2
        if self.in_context:
            lines = [
                f"In-context accuracy (%) on {len(names)} real UCR datasets, series resampled "
                f"to {s['length']}; context: {s.get('shots')} labelled train examples per class, "
                "queries: the test split",
                f"in-context classifier on {s.get('device', 'cpu')}: {s['series']} tasks per "
                f"corpus, {recipe.get('steps')} steps x {recipe.get('batch_size')} tasks, "
                f"seeds {', '.join(seeds)}",
                "",
            ]
        else:
            lines = [
                f"Zero-shot accuracy (%) on {len(names)} real UCR datasets, series resampled to "
                f"{s['length']}; frozen encoder, classifiers fit on train embeddings",
                f"encoder {s.get('encoder', 'cnn')} on {s.get('device', 'cpu')}: "
                f"{s['series']} series per corpus, {recipe.get('steps')} steps x "
                f"{recipe.get('batch_size')} series, seeds {', '.join(seeds)}",
                "",
            ]
        classifiers = self.classifier_names
        if len(seeds) <= 4:
            block = 8 * (len(seeds) + 1) + 2
            cells = "".join(f"{'seed ' + x:>8}" for x in seeds) + f"{'mean':>8}  "
        else:  # many seeds: the mean and the range across seeds
            block, cells = 26, f"{'mean':>8}{'seed range':>16}  "
        lines.append(" " * width + "".join(f"{classifiers[c]:<{block}}" for c in classifiers))
        head = f"{'method':<{width}}" + cells * len(classifiers)
        lines += [head.rstrip(), "-" * len(head.rstrip())]
        for method in self.methods:
            row = f"{self.label(method):<{width}}"
            for classifier in classifiers:
                per_seed = self.seed_means(method, classifier)
                mean = self.mean(method, classifier)
                if len(seeds) <= 4:
                    row += "".join(f"{per_seed[x]:>8.2f}" for x in seeds) + f"{mean:>8.2f}  "
                else:
                    spread = f"{min(per_seed.values()):.2f}-{max(per_seed.values()):.2f}"
                    row += f"{mean:>8.2f}{spread:>16}  "
            lines.append(row.rstrip())
        col = max(14, *(len(SHORT_LABELS[m]) + 2 for m in self.methods))
        name_width = max(7, *(len(n) for n in names)) + 2
        lines += [
            "",
            f"Per dataset, {' / '.join(classifiers.values())} (mean over seeds):",
            f"{'dataset':<{name_width}}"
            + "".join(f"{SHORT_LABELS[m]:>{col}}" for m in self.methods),
        ]
        for name in names:
            row = "".join(f"{self._cell(m, name):>{col}}" for m in self.methods)
            lines.append(f"{name:<{name_width}}{row}")
        if len(self.methods) > 1:
            lines += [
                "",
                f"Candidate minus each method, paired over {len(names)} datasets x {len(seeds)} "
                "seeds (better/worse: Wilcoxon p < 0.05 and the 95% interval excludes 0):",
            ]
        for against in self.methods[1:]:
            lines.append(f"  vs {self.label(against)}:")
            for classifier in classifiers:
                c = self.compare("candidate", against, classifier)
                lines.append(f"    {classifiers[classifier]:<20} {c.describe()}")
        if len(names) < statistics.MIN_DATASETS and len(self.methods) > 1:
            lines.append(
                f"note: with fewer than {statistics.MIN_DATASETS} datasets no comparison can "
                "be decisive; add datasets (--datasets PATH)"
            )
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"wall time: {self.timings.get('total', 0.0):.0f} s")
        return "\n".join(lines)

    def _cell(self, method: str, dataset: str) -> str:
        values = [self.per_dataset(method, c)[dataset] for c in self.classifier_names]
        return " / ".join(f"{v:.1f}" for v in values)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (derived fields are recomputed)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})
