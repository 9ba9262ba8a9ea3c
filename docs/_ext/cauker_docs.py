"""The parts of cauker's documentation that are generated from the code.

- API pages, one per public name: from the ``__all__`` of each module in
  :data:`API_MODULES` (or, for a module without ``__all__``, every class it
  defines), so a new public name gets its page with no edit of the docs;
- a page per example script (``examples/*.py``): its docstring, then its code;
- references to where a public object is defined (``cauker.sampler.rows.generate``)
  resolve to its page (``cauker.generate``); references to cauker's internal
  objects, which have no page, show as code; a reference to a name that does
  not exist stays a warning (an error in ``tests/test_docs.py``);
- the ``benchmark-results`` directive, which renders what a script of
  ``benchmarks/`` recorded (``benchmarks/results.py``) in
  ``docs/benchmarks/results/<script>.json``.

Generated pages are written into ``docs/api/generated/`` and
``docs/examples/generated/`` (ignored by git) when the build starts, and only
when their text changed, so that an unchanged page is not read again.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parents[1]
REPOSITORY = DOCS.parent

#: The modules whose public names the API reference documents (``api/index.rst`` gives
#: each a section that includes ``generated/<module>.inc``).
API_MODULES = (
    "cauker",
    "cauker.evaluation",
    "cauker.errors",
    "cauker.hf.builder",
    "cauker.hf.mantis",
)


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _heading(title: str, underline: str = "=") -> str:
    return f"{title}\n{underline * len(title)}\n"


def public_names(module_name: str) -> list[str]:
    """The names a module makes public: its ``__all__``, else the classes it defines."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and value.__module__ == module_name and not name.startswith("_")
    ]


def _data_doc(module_name: str, name: str) -> list[str]:
    """The ``#:`` comment of a module-level value, read where it is assigned: in the
    module, or in the module it is imported from (``from cauker.config import ...``)."""
    module = importlib.import_module(module_name)
    found = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", name))
    if found:
        return list(found)
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom) and any(a.name == name for a in node.names):
            return _data_doc(node.module, name)
    raise ValueError(f"{module_name}.{name} has no #: comment to document it")


def _summary(module_name: str, name: str) -> str:
    """The first paragraph of a public name's documentation, on one line."""
    value = getattr(importlib.import_module(module_name), name)
    if inspect.isclass(value) or callable(value):
        lines = (inspect.getdoc(value) or "").splitlines()
    else:
        lines = _data_doc(module_name, name)
    first = []
    for line in lines:
        if not line.strip():
            break
        first.append(line.strip())
    return " ".join(first)


def _directive(module_name: str, name: str) -> str:
    value = getattr(importlib.import_module(module_name), name)
    if inspect.isclass(value):
        return f".. autoclass:: {name}\n"
    if callable(value):
        return f".. autofunction:: {name}\n"
    doc = "\n".join(f"   {line}".rstrip() for line in _data_doc(module_name, name))
    return f".. data:: {name}\n   :value: {value!r}\n\n{doc}\n"


def _find(path: str) -> object | None:
    """The object a dotted path names (``cauker.sampler.rows.generate``), or None."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            value = getattr(value, part, None)
            if value is None:
                return None
        return value
    return None


@functools.cache
def documented_paths() -> dict[str, str]:
    """Where each public object is defined -> where it is documented."""
    out = {}
    for module_name in API_MODULES:
        for name in public_names(module_name):
            value = getattr(importlib.import_module(module_name), name)
            defined = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
            if all(isinstance(part, str) for part in defined):
                out[".".join(defined)] = f"{module_name}.{name}"
    return out


def resolve_elsewhere(app, env, node, contnode):
    """``missing-reference``: a public object named where it is defined links to its
    page; an internal object of cauker shows as code; anything else stays missing."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module, owner = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module:
        candidates += [f"{module}.{owner}.{target}" if owner else None, f"{module}.{target}"]
    if "." not in target:  # relative to a documented object, in the module that defines it
        for scope in map(_find, documented_paths().values()):
            if inspect.isclass(scope) or inspect.isfunction(scope):
                candidates.append(f"{scope.__module__}.{target}")
            if inspect.isclass(scope):
                candidates.append(f"{scope.__module__}.{scope.__qualname__}.{target}")
    aliases = documented_paths()
    domain = env.get_domain("py")
    for candidate in filter(None, candidates):
        if candidate in aliases:
            return domain.resolve_xref(
                env,
                node["refdoc"],
                app.builder,
                node["reftype"],
                aliases[candidate],
                node,
                contnode,
            )
    for candidate in filter(None, candidates):
        if candidate.split(".")[0] == "cauker" and _exists(candidate):
            return contnode
    return None


def _exists(path: str) -> bool:
    """Whether cauker defines ``path``. A module that needs an optional dependency
    missing here (``cauker.evaluation.encoders`` without PyTorch: the ``docs`` extra
    does not install it) exists, and so, unchecked, do the names in it."""
    if _find(path) is not None:
        return True
    parts = path.split(".")
    for split in range(len(parts), 1, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:split]))
        except (ImportError, ValueError):
            continue
        if spec is not None:
            try:
                importlib.import_module(spec.name)
            except ImportError:
                return True  # present, but its optional dependency is not
            return False  # importable, and _find did not find the name in it
    return False


def write_api_pages() -> None:
    """``api/generated/<module>.<name>.rst`` for every public name, and per module an
    ``api/generated/<module>.inc`` (a summary table and the toctree) that
    ``api/index.rst`` includes."""
    folder = DOCS / "api" / "generated"
    wanted = set()
    for module_name in API_MODULES:
        names = public_names(module_name)
        for name in names:
            page = f"{module_name}.{name}"
            wanted.add(f"{page}.rst")
            text = f"{_heading(page)}\n.. currentmodule:: {module_name}\n\n"
            _write(folder / f"{page}.rst", text + _directive(module_name, name))
        summary = [f".. currentmodule:: {module_name}\n", ".. list-table::", "   :widths: 30 70\n"]
        for name in names:
            summary += [f"   * - :obj:`{name}`", f"     - {_summary(module_name, name)}"]
        summary += ["", ".. toctree::", "   :hidden:", ""]
        summary += [f"   generated/{module_name}.{name}" for name in names]
        wanted.add(f"{module_name}.inc")
        _write(folder / f"{module_name}.inc", "\n".join(summary) + "\n")
    for stale in folder.glob("*"):
        if stale.name not in wanted:
            stale.unlink()


def write_example_pages() -> None:
    """``examples/generated/<script>.rst`` for every ``examples/*.py``: the docstring as
    the page's text (its first line the title), then the code after it."""
    folder = DOCS / "examples" / "generated"
    wanted = set()
    for script in sorted((REPOSITORY / "examples").glob("*.py")):
        tree = ast.parse(script.read_text())
        docstring = ast.get_docstring(tree)
        if docstring is None:
            raise ValueError(f"{script} has no docstring: an example's page starts from it")
        first, _, rest = docstring.partition("\n")
        lines = script.read_text().splitlines()
        code_starts = tree.body[0].end_lineno + 1
        while code_starts <= len(lines) and not lines[code_starts - 1].strip():
            code_starts += 1
        relative = f"../../../examples/{script.name}"
        text = "\n".join(
            [
                f".. _example-{script.stem}:\n",
                _heading(first.strip().rstrip(".")),
                f"``examples/{script.name}`` (:download:`download <{relative}>`)\n",
                rest.strip() + "\n",
                _heading("The script", "-"),
                f".. literalinclude:: {relative}",
                "   :language: python",
                f"   :lines: {code_starts}-\n",
            ]
        )
        wanted.add(f"{script.stem}.rst")
        _write(folder / f"{script.stem}.rst", text)
    for stale in folder.glob("*"):
        if stale.name not in wanted:
            stale.unlink()


class BenchmarkResults(SphinxDirective):
    """``.. benchmark-results:: builder_overhead``: the tables a benchmark script
    recorded, with its date, machine, command and versions; or, if it has not
    recorded any, a note that says how to run it."""

    required_arguments = 1
    option_spec = {"figure-width": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        path = DOCS / "benchmarks" / "results" / f"{name}.json"
        self.env.note_dependency(str(path))
        if not path.exists():
            note = nodes.admonition(classes=["note"])
            note += nodes.title(text="Not yet run with this version")
            note += nodes.paragraph(
                "", "", nodes.Text("Run "), nodes.literal(text=f"python benchmarks/{name}.py")
            )
            note[-1] += nodes.Text(" to record its results here.")
            return [note]
        result = json.loads(path.read_text())
        out: list[nodes.Node] = [self._provenance(result)]
        for table in result["tables"]:
            out.append(self._table(table))
        for note in result["notes"]:
            out.append(nodes.paragraph(text=note))
        for figure in result["figures"]:
            image = nodes.image(uri=f"results/{figure}", alt=figure)
            image["width"] = self.options.get("figure-width", "100%")
            out.append(image)
        return out

    @staticmethod
    def _provenance(result: dict) -> nodes.Node:
        versions = result["versions"]
        items = [
            ("Date", result["date"]),
            ("Machine", result["machine"]),
            ("Command", result["command"]),
            (
                "Versions",
                ", ".join(f"{key} {value}" for key, value in versions.items()),
            ),
        ]
        listing = nodes.field_list()
        for label, value in items:
            body = nodes.literal(text=value) if label == "Command" else nodes.Text(value)
            listing += nodes.field(
                "",
                nodes.field_name(text=label),
                nodes.field_body("", nodes.paragraph("", "", body)),
            )
        return listing

    @staticmethod
    def _table(table: dict) -> nodes.Node:
        columns = table["columns"]
        group = nodes.tgroup(cols=len(columns))
        group += [nodes.colspec(colwidth=1) for _ in columns]

        def row(cells: list[str]) -> nodes.row:
            line = nodes.row()
            for cell in cells:
                line += nodes.entry("", nodes.paragraph(text=cell))
            return line

        group += nodes.thead("", row(columns))
        group += nodes.tbody("", *(row(cells) for cells in table["rows"]))
        out = nodes.table("", nodes.title(text=table["title"]), group)
        out["classes"] += ["benchmark-table"]
        return out


def _generate(app) -> None:
    write_api_pages()
    write_example_pages()


def setup(app):
    app.connect("builder-inited", _generate)
    app.connect("missing-reference", resolve_elsewhere)
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
