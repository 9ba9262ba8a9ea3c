"""Sphinx configuration of cauker's documentation.

Build and serve it locally::

    pip install -e ".[docs]"
    python -m sphinx -b html docs docs/_build/html && python -m http.server -d docs/_build/html

``tests/test_docs.py`` builds it with warnings as errors (``-W -n``). Nothing is
fetched at build time: no intersphinx (its inventories would need the network),
so names of other libraries are shown as code, not links (``nitpick_ignore_regex``).
What is generated from the code (``_ext/cauker_docs.py``): the API reference from
``__all__``, a page per example script, the benchmark tables from
``benchmarks/results/*.json``; the CLI reference comes from the argparse parser
(sphinx-argparse).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # cauker_dataset.py, and cauker from a plain checkout

import cauker  # noqa: E402

project = "cauker"
author = "cauker developers"
copyright = "cauker developers"  # noqa: A001 - Sphinx's name
version = release = cauker.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinxarg.ext",
    "myst_parser",
    "sphinx_design",
    "cauker_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/*.inc"]
root_doc = "index"

# --- API reference -------------------------------------------------------------
autodoc_typehints = "none"  # numpydoc's Parameters give the types, in words
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # a method cauker overrides shows its own doc, or none
autodoc_default_options = {"members": True, "show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = {"GL08"}  # a public object without a docstring fails the build

# --- references ---------------------------------------------------------------
nitpicky = True
# Other libraries' names: without intersphinx they cannot be links.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|pyarrow|pa|datasets|torch|sklearn|scipy|pandas|dask|distributed)\..*"),
    (r"py:.*", r"(huggingface_hub|fsspec|mantis|gluonts|torchdata|matplotlib|threadpoolctl)\..*"),
]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"cauker {release}"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 8,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "changelog": []}
html_last_updated_fmt = None
