"""Sphinx configuration of the sklearn-convexrelu documentation.

Build (from the repository root, with the ``docs`` extra installed)::

    sphinx-build -W -n --keep-going -b html doc doc/_build/html

``-W -n`` turns warnings into errors and checks every cross-reference to the package itself
(nitpicky); references to third-party objects are not checked (there is no network access for
intersphinx inventories in CI), see ``nitpick_ignore_regex`` below. The gallery executes every
``examples/plot_*.py``; ``-D plot_gallery=0`` skips running them (a quick check of the pages).
"""

import os
import re
import sys
import warnings
from pathlib import Path

import sklearn_convexrelu

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "sklearn-convexrelu"
author = "the sklearn-convexrelu developers"
copyright = "the sklearn-convexrelu developers, BSD-3-Clause"
release = sklearn_convexrelu.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    "matplotlib.sphinxext.plot_directive",
    "benchmark_tables",
]

exclude_patterns = ["_build", "generated/benchmarks", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
default_role = "literal"  # `x` in a page is code, as in numpydoc docstrings

# --- API reference: autosummary pages of every public name, numpydoc for the docstrings ---
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types in Parameters/Returns/Attributes are cross-referenced: the package's own classes link
# to their pages, every other word is left as text (attribute names such as ``n_features_in_``
# would otherwise be read as reStructuredText references).
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
# numpydoc's default aliases point into the Python and numpy inventories (intersphinx, which CI
# cannot reach): keep those words as plain text, and add the package's public classes.
from numpydoc.xref import DEFAULT_LINKS  # noqa: E402

numpydoc_xref_aliases = {word: word for word in DEFAULT_LINKS}  # public classes added in setup()

# Nitpicky for the package's own references only: names outside ``sklearn_convexrelu`` (numpy,
# scipy, scikit-learn, joblib, dask, builtins) and the type words of numpydoc docstrings are not
# resolved (no intersphinx: CI has no network).
nitpicky = True
_FOREIGN = r"(numpy|np|scipy|sklearn|joblib|dask|distributed|cvxpy|clarabel|matplotlib|pandas|threadpoolctl|skops)"
nitpick_ignore_regex = [
    (r"py:.*", _FOREIGN + r"(\..*)?"),  # third-party objects
    (r"py:.*", r"(array-like|array_like|array|scalar|string|boolean|iterable|sequence|generator|"
               r"True|False|int|float|bool|str|bytes|dict|list|tuple|set|frozenset|object|type|callable|None|"
               r"Ellipsis|Exception|UserWarning|RuntimeError|ValueError|TypeError|Warning|"
               r"Integral|Real|Generator|RandomState|Callable|Iterable|Sequence|Mapping)"),
    # Fitted attributes (``network_``, ``certificate_``...) are documented in their class's
    # Attributes list, which gives them no target of their own; ``score`` & co. are scikit-learn's.
    (r"py:attr", r"(\w+\.)*\w+_"),
    (r"py:meth", r"(score|get_params|set_params|get_metadata_routing)"),
    # Internal helpers that public docstrings point at; they are not part of the public API.
    (r"py:(func|mod|class|meth|attr|obj)", r"(sklearn_convexrelu\.)?(program|solvers|pattern_search|optimal_set)\..*|_\w+|"
                             r"\.?_\w+|optimal_set_from_fit"),
]

# --- Gallery ---
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"quickstart\.py|/_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "matplotlib_animations": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "doc_module": ("sklearn_convexrelu",),
    "backreferences_dir": "generated/backreferences",
    "capture_repr": ("_repr_html_", "__repr__"),
}
# examples call plt.savefig next to the script when run by hand; the gallery has its own scrapers
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg", category=UserWarning)

# --- Plots in pages (``.. plot::``), run at build time ---
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.figsize": (8, 3.6), "font.size": 9}
plot_working_directory = str(Path(__file__).parent)

# --- HTML ---
html_theme = "pydata_sphinx_theme"
html_title = "sklearn-convexrelu"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": [], "comparison": [], "api": []}
html_show_sourcelink = True
html_last_updated_fmt = None


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out the methods scikit-learn's base classes give our estimators (``get_params``,
    ``set_*_request``, ``score``...): their pages are scikit-learn's, and their docstrings point at
    its glossary."""
    module = getattr(obj, "__module__", None) or getattr(getattr(obj, "__func__", None), "__module__", None)
    if what == "class" and module and not module.startswith("sklearn_convexrelu"):
        return True
    return skip


def _escape_type_references(app, what, name, obj, options, lines):
    """In ``name : type`` lines, write ``n_features_in_`` as code, as scikit-learn's docstrings do
    (a bare name ending in ``_`` is a reStructuredText reference)."""
    for k, line in enumerate(lines):
        head, sep, type_ = line.partition(" : ")
        if sep and head.strip() and " " not in head.strip() and not head.startswith(" "):
            lines[k] = head + sep + re.sub(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])", r"``\1``", type_)


def setup(app):
    import sklearn_convexrelu.landscape

    for module in (sklearn_convexrelu, sklearn_convexrelu.landscape):
        for name in module.__all__:
            if isinstance(getattr(module, name, None), type):
                numpydoc_xref_aliases[name] = f"{module.__name__}.{name}"
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _escape_type_references, priority=400)
