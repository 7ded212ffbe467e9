"""Sphinx configuration for the logactors manual (``nox -s docs``; warnings are errors)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import logactors  # noqa: E402  (after the path set-up)

project = "logactors"
author = "logactors developers"
copyright = "logactors developers"
release = logactors.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "config_reference",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: ``:::`` fences for admonitions, definition lists, and anchors for ``#`` links.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc + napoleon (Google-style docstrings).
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
napoleon_use_rtype = False
nitpicky = False

html_theme = "furo"
html_title = f"logactors {release}"
html_static_path = ["_static"]
html_css_files = ["logactors.css"]
pygments_style = "sphinx"
