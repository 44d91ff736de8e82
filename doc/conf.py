"""Sphinx configuration: numpydoc API pages and a sphinx-gallery of the examples."""

import sklearn_convexrelu

project = "sklearn-convexrelu"
release = sklearn_convexrelu.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "numpydoc", "sphinx_gallery.gen_gallery"]
autosummary_generate = True
numpydoc_show_class_members = False
sphinx_gallery_conf = {"examples_dirs": "../examples", "gallery_dirs": "auto_examples", "filename_pattern": "plot_"}
html_theme = "alabaster"
exclude_patterns = ["_build"]
