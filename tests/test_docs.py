"""The documentation site builds with warnings as errors, and shows what the code holds:
every public name, every subcommand and flag, every example, every benchmark result.

The build is cold (a fresh output folder) and offline; ``pip install ".[docs]"``
installs what it needs: the build runs with the ``eval`` extra's PyTorch and
mantis-tsfm hidden, as on a machine that installed the ``docs`` extra alone.
"""

import argparse
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra: pip install '.[docs]'")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import cauker_docs  # noqa: E402
import results  # noqa: E402

from cauker.cli import build_parser  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    hide_eval_extra = (
        "import sys; sys.modules.update(torch=None, mantis=None); "  # imports raise ImportError
        "from sphinx.cmd.build import main; sys.exit(main(sys.argv[1:]))"
    )
    command = [sys.executable, "-c", hide_eval_extra, "-b", "html", "-W", "--keep-going", "-n"]
    command += ["-q", "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-5000:]
    return out / "html"


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def visible(page: Path) -> str:
    """The page's text as a reader sees it (Sphinx splits code into spans), with
    Sphinx's typographic apostrophes read as the ASCII ones of the sources."""
    return html.unescape(re.sub(r"<[^>]+>", "", text(page))).replace("\u2019", "'")


def test_every_public_name_has_a_page_from_its_docstring(site):
    names = [
        (module, name)
        for module in cauker_docs.API_MODULES
        for name in cauker_docs.public_names(module)
    ]
    assert ("cauker", "generate") in names and ("cauker", "push_to_hub") in names
    import cauker

    assert {name for module, name in names if module == "cauker"} == set(cauker.__all__)
    index = text(site / "api" / "index.html")
    for module, name in names:
        page = site / "api" / "generated" / f"{module}.{name}.html"
        assert page.exists(), f"{module}.{name} has no page"
        assert f'id="{module}.{name}"' in text(page), f"{module}.{name} is not documented"
        assert f"generated/{module}.{name}.html" in index, f"{module}.{name} not in the index"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_subcommand_and_flag_is_in_the_cli_reference(site):
    page = visible(site / "cli.html")
    commands = subcommands()
    assert {"generate", "export", "push", "evaluate", "sweep"} <= set(commands)
    for name, parser in commands.items():
        assert re.search(rf"<h\d[^>]*>\s*{name}\b", text(site / "cli.html")), f"no {name} section"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # sphinx-argparse leaves out --help
            for flag in action.option_strings:
                assert flag in page, f"cauker {name} {flag} is not in the CLI reference"


def test_every_example_is_a_page_with_its_code(site):
    scripts = sorted((ROOT / "examples").glob("*.py"))
    assert scripts
    for script in scripts:
        page = site / "examples" / "generated" / f"{script.stem}.html"
        assert page.exists(), f"{script.name} has no page"
        last_line = script.read_text().strip().splitlines()[-1].strip()
        assert last_line.split("(")[0] in text(page)  # the code, to its end


def test_every_benchmark_result_is_shown_with_its_provenance(site):
    source = text(DOCS / "benchmarks" / "index.md")
    shown = re.findall(r"\{benchmark-results\} (\w+)", source)
    recorded = {path.stem for path in (DOCS / "benchmarks" / "results").glob("*.json")}
    assert recorded <= set(shown), f"results not on the page: {recorded - set(shown)}"
    page = visible(site / "benchmarks" / "index.html")
    for name in shown:
        path = DOCS / "benchmarks" / "results" / f"{name}.json"
        if path.exists():
            result = json.loads(path.read_text())
            assert result["date"] in page and result["tables"][0]["title"] in page
        else:
            assert f"python benchmarks/{name}.py" in page
    assert "Not yet run with this version" in page or recorded == set(shown)


def test_a_benchmark_records_its_tables_date_machine_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("CAUKER_BENCHMARK_RESULTS", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["benchmarks/example.py", "--rows", "10"])
    table = results.Table("Rows", ["run", "seconds"])
    table.add("first", "1.00")
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        table.add("only one cell")
    path = results.record("benchmarks/example.py", table, notes=["a note"])
    assert path == tmp_path / "example.json"
    result = json.loads(path.read_text())
    assert result["command"] == "python benchmarks/example.py --rows 10"
    assert result["tables"] == [
        {"title": "Rows", "columns": ["run", "seconds"], "rows": [["first", "1.00"]]}
    ]
    assert result["notes"] == ["a note"]
    assert result["versions"]["algorithm"] == __import__("cauker").ALGORITHM_VERSION
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", result["date"])
    assert "cores" in result["machine"]
    assert "| first | 1.00 |" in table.markdown()
