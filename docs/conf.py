"""Sphinx configuration for the topchef_client documentation.

Only Sphinx itself is needed: the theme is the bundled alabaster, and no
extension fetches anything from the network, so the build works offline.
"""
import os
import sys

# The package is documented from the checkout, installed or not.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

import topchef_client  # noqa: E402

project = "topchef_client"
author = "topchef_client authors"
copyright = "topchef_client authors"
version = topchef_client.__version__
release = topchef_client.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build"]
root_doc = "index"
language = "en"
highlight_language = "python3"
pygments_style = "sphinx"

# autodoc: members in source order, signatures without the class name.
autodoc_member_order = "bysource"
autodoc_class_signature = "mixed"
add_module_names = False

html_theme = "alabaster"
html_title = "topchef_client %s" % release
html_theme_options = {
    "description": "Python client library for the TopChef job server",
    "fixed_sidebar": True,
}
html_static_path = []


def _shorten_foreign_signatures(app, what, name, obj, options, signature, return_annotation):
    """Show ``(**kwargs)`` for a class whose constructor comes from another library.

    ``transport.JitteredRetry`` inherits urllib3's ``Retry.__init__``, whose long
    signature (and its type hints) would change with the installed urllib3.
    """
    if what != "class":
        return None
    module = getattr(getattr(obj, "__init__", None), "__module__", None) or ""
    if module and module.split(".")[0] not in ("topchef_client", "builtins"):
        return "(**kwargs)", return_annotation
    return None


def setup(app):
    app.connect("autodoc-process-signature", _shorten_foreign_signatures)
