"""The dataset card of an exported or pushed corpus.

The YAML front matter is written with the libraries that read it:
``datasets``' ``MetadataConfigs`` (the ``configs:`` block with each config's
data files; without it ``datasets`` merges all configs into one ``default``)
and ``DatasetInfosDict`` (features and split sizes), plus a ``cauker:`` block
with each config's generating parameters. Updating a card for one config keeps
the entries of every other config. The text comes from the template in
``dataset_card/README.md``.

A card is cauker's if its YAML has the ``cauker:`` block; any other README is
the user's, and ``update_card`` refuses to replace it.
"""

from __future__ import annotations

import dataclasses
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import datasets
import yaml
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData
from huggingface_hub.repocard import REGEX_YAML_BLOCK

from cauker.config import ALGORITHM_VERSION, SPLITS, CauKerConfig, flag_of
from cauker.errors import ForeignFileError, ParameterError
from cauker.paper import CITATION
from cauker.task_config import TASK_VERSION, TaskConfig, is_task_config

#: The license of a card that names none, unless ``export`` or ``push_to_hub`` is
#: given one: cauker's own (Apache 2.0). The data of a corpus is a pure function of
#: its parameters; the paper's authors or a user's institution may call for another.
LICENSE = "apache-2.0"
#: Where the card sends its readers for the documentation: the one place this
#: address is written (the documentation site built from ``docs/``).
DOCS_URL = "https://cauker.readthedocs.io"
PRETTY_NAME = "CauKer synthetic time series"
_LICENSE_ID = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")

_SIZES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
_SIZES += [(10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]


@dataclass(frozen=True)
class ConfigEntry:
    """What the card says of one config."""

    name: str
    config: CauKerConfig
    features: datasets.Features
    num_examples: dict[str, int]  # per split
    num_bytes: dict[str, int]  # per split, uncompressed
    download_size: int  # bytes of the Parquet files
    data_files: dict[str, str]  # per split with rows: the glob of its shards in the repo
    preview: str | None = None  # path of the preview image in the repo


def template() -> str:
    """The card template: packaged with the wheel, or at the top of a checkout."""
    packaged = resources.files("cauker") / "dataset_card" / "README.md"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).parents[2] / "dataset_card" / "README.md").read_text(encoding="utf-8")


def tag_name(config_name: str) -> str:
    """The tag of a push of ``config_name`` at the current algorithm version."""
    return f"{config_name}-v{ALGORITHM_VERSION}"


def _size_category(rows: int) -> str:
    return next((label for limit, label in _SIZES if rows < limit), "n>1T")


def _cauker_block(entry: ConfigEntry) -> dict[str, Any]:
    version = ALGORITHM_VERSION
    if is_task_config(entry.config):
        version = f"{ALGORITHM_VERSION}+tasks-{TASK_VERSION}"
    return {
        "config_name": entry.name,
        "version": version,
        "fingerprint": entry.config.fingerprint(),
        "parameters": entry.config.to_dict(),
        **({"preview": entry.preview} if entry.preview else {}),
    }


def check_license(license: str | None) -> str | None:
    """``license`` if it is None or a Hub license identifier (``apache-2.0``,
    ``cc-by-4.0``, ``mit``, ``other``...), else :class:`~cauker.errors.ParameterError`.

    >>> check_license("cc-by-4.0")
    'cc-by-4.0'
    """
    if license is not None and (not isinstance(license, str) or not _LICENSE_ID.match(license)):
        raise ParameterError(
            f"license must be a license identifier of the Hub, such as 'apache-2.0', "
            f"'cc-by-4.0' or 'mit' (lowercase), got {license!r}"
        )
    return license


def is_cauker_card(text: str) -> bool:
    """Whether a README is a card that cauker wrote (its YAML has the ``cauker:`` block)."""
    match = REGEX_YAML_BLOCK.match(text)  # where huggingface_hub's RepoCard finds the YAML
    if match is None:
        return False
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError:
        return False
    blocks = data.get("cauker") if isinstance(data, dict) else None
    return isinstance(blocks, list) and all(
        isinstance(b, dict) and "config_name" in b and "fingerprint" in b for b in blocks
    )


def update_card(
    existing: str | None, entry: ConfigEntry, repo_id: str, license: str | None = None
) -> DatasetCard:
    """The card with ``entry`` added or replaced; other configs are kept.

    ``license`` replaces the card's license; None keeps the one it names, or
    gives ``LICENSE`` to a card that names none. Raises
    :class:`~cauker.errors.ForeignFileError` if ``existing`` is not a cauker
    card: a user's README is never replaced.
    """
    if existing is not None and not is_cauker_card(existing):
        raise ForeignFileError("the existing README.md is not a cauker dataset card")
    data = DatasetCard(existing).data if existing else DatasetCardData()
    present = [s for s in SPLITS if entry.num_examples[s] > 0]  # num_validation=0: no files
    files = [{"split": s, "path": entry.data_files[s]} for s in present]
    MetadataConfigs({entry.name: {"data_files": files}}).to_dataset_card_data(data)
    splits = datasets.SplitDict()
    for s in present:
        splits.add(
            datasets.SplitInfo(s, num_bytes=entry.num_bytes[s], num_examples=entry.num_examples[s])
        )
    info = datasets.DatasetInfo(
        features=entry.features,
        splits=splits,
        download_size=entry.download_size,
        dataset_size=sum(entry.num_bytes.values()),
    )
    DatasetInfosDict({entry.name: info}).to_dataset_card_data(data)
    blocks = {b["config_name"]: b for b in (data.get("cauker") or [])}
    blocks[entry.name] = _cauker_block(entry)
    data["cauker"] = [blocks[name] for name in sorted(blocks)]
    total = sum(
        b["parameters"].get("num_series") or b["parameters"].get("num_tasks") or 0
        for b in blocks.values()
    )
    data.license = license or data.license or LICENSE  # a license the owner chose is kept
    data.pretty_name = PRETTY_NAME
    data.size_categories = [_size_category(total)]
    data.task_categories = ["time-series-forecasting"]
    data.tags = ["synthetic", "time-series", "causal", "gaussian-process", "cauker"]
    body = _body(data["cauker"], repo_id, data.license)
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


#: What the card says of task configs, under their table.
TASKS_NOTE = (
    "Task configs (one row per labelled classification task for in-context "
    "classifiers: `support` and `query` samples with `support_label` and `query_label`, "
    "`num_classes`, per-class provenance `class_*`, and `knn_accuracy`, the 1-NN accuracy "
    "from the support to the queries; regenerate them with `cauker.TaskConfig`):"
)


def _configs_tables(blocks: list[dict[str, Any]]) -> str:
    """A table of the corpus configs, then one of the task configs, if any."""
    corpora = [b for b in blocks if "num_tasks" not in b["parameters"]]
    tasks = [b for b in blocks if "num_tasks" in b["parameters"]]
    parts = [_table(corpora, CauKerConfig)] if corpora else []
    if tasks:
        parts.append(f"{TASKS_NOTE}\n\n{_table(tasks, TaskConfig)}")
    return "\n\n".join(parts)


def _table(blocks: list[dict[str, Any]], kind: type = CauKerConfig) -> str:
    fields = dataclasses.fields(kind)
    head = ["config", "version", *(field.name for field in fields)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for b in blocks:
        p = b["parameters"]
        # A field the parameters leave out has its default (CauKerConfig.to_dict).
        cells = [f"`{b['config_name']}`", b["version"]]
        cells += [_cell(p.get(field.name, field.default), field) for field in fields]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any, field: dataclasses.Field) -> str:
    write = flag_of(field).write
    if write is not None:  # its command-line form: 1:16
        return write(tuple(value) if isinstance(value, list) else value)
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _body(blocks: list[dict[str, Any]], repo_id: str, license: str) -> str:
    example = blocks[0]["config_name"]
    previews = [
        f"`{b['config_name']}`:\n\n![{b['config_name']} samples]({b['preview']})"
        for b in blocks
        if b.get("preview")
    ]
    return string.Template(template()).substitute(
        pretty_name=PRETTY_NAME,
        configs_table=_configs_tables(blocks),
        repo_id=repo_id,
        example_config=example,
        example_tag=tag_name(example),
        previews="\n\n".join(previews) or "(no preview image)",
        citation=CITATION,
        license=license,
        docs_url=DOCS_URL,
        regenerate=_regenerate(blocks),
    )


def _regenerate(blocks: list[dict[str, Any]]) -> str:
    """One line of Python per config: the ``CauKerConfig`` whose rows it holds, with
    the parameters that differ from the defaults (``num_series`` always)."""
    lines = []
    for b in blocks:
        p, name = b["parameters"], b["config_name"]
        if not isinstance(p.get("kernel_bank"), str):  # scikit-learn kernels: no exact text
            lines.append(f"# {name}: a custom kernel bank; its parameters are in the table")
            continue
        kind, size = (TaskConfig, "num_tasks") if "num_tasks" in p else (CauKerConfig, "num_series")
        defaults = kind(**{size: 1}).to_dict()
        words = [f"{size}={_number(p[size])}"]
        for field, value in p.items():
            if field != size and value != defaults[field]:
                text = repr(tuple(value)) if isinstance(value, list) else _number(value)
                words.append(f"{field}={text}")
        lines.append(f"{_variable(name)} = cauker.{kind.__name__}({', '.join(words)})")
    first = next((line.split(" = ")[0] for line in lines if not line.startswith("#")), None)
    if first is not None:
        lines.append(f'table = cauker.generate({first}, split="train")  # same rows, same bytes')
    return "\n".join(lines)


def _number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:_}"
    return repr(value)


def _variable(name: str) -> str:
    """A Python name for config ``name``: ``config_10k`` for ``10k``."""
    return "config_" + re.sub(r"\W", "_", name)
