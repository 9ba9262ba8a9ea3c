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
    """Every name that the source file ``path`` imports, at any place in it (in a
    function, under ``TYPE_CHECKING``: each is an arrow of the design), in full:
    ``from cauker.config import CauKerConfig`` is ``cauker.config.CauKerConfig``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_of_the_package_imports_the_top_level_builder():
    importers = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if any(name.split(".")[0] == "cauker_dataset" for name in imports(path))
    ]
    assert importers == []


#: The layers of the package, from the bottom up: a module imports modules of its
#: own layer and of the layers below, never of a layer above. (``cauker`` is the
#: package's ``__init__``: the public names, above the layers it re-exports.)
LAYERS = [
    ("cauker.errors", "cauker.paper"),
    ("cauker.validation",),
    ("cauker.banks",),
    ("cauker.config",),
    ("cauker.task_config",),
    ("cauker.named_configs",),
    ("cauker.lifeline",),
    ("cauker.sampler",),
    ("cauker.tasks",),
    ("cauker.files",),
    ("cauker.hub",),
    ("cauker.hf",),
    ("cauker",),
    ("cauker.evaluation",),
    ("cauker.cli", "cauker.__main__"),
]

#: Libraries a layer may not import (the sampler and the tasks know nothing of
#: ``datasets``).
FORBIDDEN_LIBRARIES = {
    "cauker.sampler": ("datasets", "huggingface_hub"),
    "cauker.tasks": ("datasets", "huggingface_hub"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def arrows(sources: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports. ``from cauker import paper``
    is an arrow to ``cauker.paper``; ``from cauker.config import CauKerConfig`` to
    ``cauker.config``: each name goes to the longest module that holds it."""
    graph = {}
    for module, path in sources.items():
        targets = set()
        for name in imports(path):
            if name.split(".")[0] != "cauker":
                continue
            held = max((m for m in sources if name == m or name.startswith(m + ".")), key=len)
            if held != module:
                targets.add(held)
        graph[module] = targets
    return graph


def layer_of(module: str) -> int:
    found = [
        (len(prefix), i)
        for i, layer in enumerate(LAYERS)
        for prefix in layer
        if module == prefix or (prefix != "cauker" and module.startswith(prefix + "."))
    ]
    assert found, f"{module} is in no layer of LAYERS"
    return max(found)[1]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_layers_name_every_module_once():
    assert all(layer_of(module) >= 0 for module in SOURCES)
    prefixes = [prefix for layer in LAYERS for prefix in layer]
    assert len(prefixes) == len(set(prefixes))


def test_no_import_circle():
    assert circles(arrows(SOURCES)) == []


def test_no_import_runs_back_up_the_layers():
    upward = {
        f"{module} -> {target}"
        for module, targets in arrows(SOURCES).items()
        for target in targets
        if layer_of(target) > layer_of(module)
    }
    assert upward == set()


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_LIBRARIES))
def test_the_sampler_and_the_tasks_import_neither_datasets_nor_the_hub(layer):
    found = {
        f"{module}: {name}"
        for module, path in SOURCES.items()
        if module.startswith(layer + ".")
        for name in imports(path)
        if name.split(".")[0] in FORBIDDEN_LIBRARIES[layer]
    }
    assert found == set()


def test_the_checks_find_a_circle_and_an_upward_import():
    graph = {"cauker.config": {"cauker.sampler.kernels"}, "cauker.sampler.kernels": set()}
    assert layer_of("cauker.sampler.kernels") > layer_of("cauker.config")  # upward
    graph["cauker.sampler.kernels"].add("cauker.config")
    assert circles(graph) == [["cauker.config", "cauker.sampler.kernels"]]


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
