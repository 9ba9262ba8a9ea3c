"""The architecture, as a newcomer relies on it: one error hierarchy (every exception
class of the package derives from cauker.errors.CaukerError), layers that import
only the layers they build on, and no module importing the top-level builder."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import cauker
from cauker.errors import CaukerError, ParameterError

PACKAGE = Path(cauker.__file__).parent
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(cauker.__path__, "cauker.")
    if info.name != "cauker.__main__"  # runs the command line when imported
)


def defined_exceptions(module) -> list[type]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
    ]


def test_every_exception_class_of_the_package_derives_from_cauker_error():
    assert len(MODULES) > 50  # every layer was walked
    defined = [c for name in MODULES for c in defined_exceptions(importlib.import_module(name))]
    assert len(defined) >= 10  # the hierarchy of cauker.errors, at least
    assert [c for c in defined if not issubclass(c, CaukerError)] == []


def test_a_bad_value_is_both_a_parameter_error_and_a_value_error():
    with pytest.raises(ParameterError, match="num_nodes must be in") as info:
        cauker.CauKerConfig(num_series=8, num_nodes=0)
    assert isinstance(info.value, ValueError) and isinstance(info.value, CaukerError)


def imports(path: Path) -> set[str]:
    """Every module that the source file ``path`` imports, at any place in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module or "")
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_of_the_package_imports_the_top_level_builder():
    importers = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if any(name.split(".")[0] == "cauker_dataset" for name in imports(path))
    ]
    assert importers == []


#: What each layer may not import: the layers built on it.
FORBIDDEN = {
    "sampler": (
        "cauker.tasks",
        "cauker.files",
        "cauker.hf",
        "cauker.cli",
        "cauker.evaluation",
        "datasets",
    ),
    "tasks": ("cauker.files", "cauker.hf", "cauker.cli", "cauker.evaluation", "datasets"),
    "files": ("cauker.hf", "cauker.cli", "cauker.evaluation"),
    "hf": ("cauker.cli", "cauker.evaluation"),
    "evaluation": ("cauker.cli",),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_only_the_layers_it_builds_on(layer):
    found = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in imports(path)
        if name.startswith(FORBIDDEN[layer])
    }
    assert found == set()


def test_the_tasks_reach_the_sampler_through_one_adapter():
    """Only cauker/tasks/prior.py (the adapter) and corpora.py (which hands a corpus
    config back to the sampler) import cauker.sampler, so a change in the sampler's
    internals touches one file of the tasks."""
    importers = {
        path.name
        for path in sorted((PACKAGE / "tasks").rglob("*.py"))
        if any(name.startswith("cauker.sampler") for name in imports(path))
    }
    assert importers == {"prior.py", "corpora.py"}
