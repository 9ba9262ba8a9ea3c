"""The examples in the package's docstrings run, and give what they show."""

import doctest
import importlib
import pkgutil
import tempfile

import pytest

import cauker

MODULES = sorted(info.name for info in pkgutil.walk_packages(cauker.__path__, "cauker."))
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder().find(module, name) if t.examples]


@pytest.mark.parametrize("name", [n for n in MODULES if n != "cauker.__main__"])
def test_docstring_examples_run_and_leave_no_temporary_folder(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))  # where mkdtemp() would leave one
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in examples(name):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert list(temporary.iterdir()) == []  # D15


def test_the_package_has_examples_to_run():
    counts = {name: sum(len(t.examples) for t in examples(name)) for name in MODULES}
    assert sum(counts.values()) >= 80
    assert sum(n for name, n in counts.items() if name.startswith("cauker.evaluation")) >= 15


def test_the_public_api_shows_examples():
    """Every function of ``cauker.__all__`` and the entry point of every layer has
    an example that runs (not skipped)."""
    public = [getattr(cauker, name) for name in cauker.__all__]
    needs_the_hub = cauker.push_to_hub  # its example is skipped: it needs a Hub and a token
    public = [f for f in public if callable(f) and f is not needs_the_hub]
    entry_points = [
        "cauker.files.corpus_folder.write_corpus_folder",
        "cauker.files.runners.write_shards",
        "cauker.files.writers.write_shard",
        "cauker.files.shard_plan.plan_shards",
        "cauker.cli.main",
        "cauker.validation.check_int",
    ]
    for path in entry_points:
        module, _, attribute = path.rpartition(".")
        public.append(getattr(importlib.import_module(module), attribute))
    without = []
    for function in public:
        tests = doctest.DocTestFinder(recurse=False).find(function, function.__name__)
        ran = [e for t in tests for e in t.examples if not e.options.get(doctest.SKIP)]
        if not ran:
            without.append(function.__name__)
    assert without == []
