"""Every public docstring passes numpydoc's validation (issue 15), as scikit-learn checks its own.

The names checked are the ``__all__`` of every module that ``doc/api.rst`` documents (its
``currentmodule``, ``py:module`` and ``automodule`` directives) and every name listed in its
autosummary blocks, plus the public methods and properties of those classes that are defined in
this package (a method inherited unchanged from scikit-learn, such as ``get_params`` or ``score``,
is scikit-learn's docstring, not ours). Each is run through :func:`numpydoc.validate.validate`.

Error codes not checked, and why (``IGNORED`` and ``_ignored``):

- RT02 (a single return value must give its type only): we name returned values as scikit-learn
  does (``y_pred : ndarray of shape (n_samples,)``, ``self : object``), so a Returns entry can be
  referred to by name.
- ES01 (extended summary), SA01 (See Also) and EX01 (Examples) on methods and properties: as in
  scikit-learn, only the class docstring needs them. EX01 stays required on the methods of the
  public analysis classes that are neither estimators nor data records (``OptimalSet``,
  ``Invariances``, ``Atoms``): their methods are the entry points a user calls one by one.
- PR01 (parameters not documented) on a dataclass that is a result record: the package builds
  those records and users read them, so their fields are documented under ``Attributes``; the test
  checks instead that every field is listed there.

Every other code (summary, parameter types and descriptions, defaults, Returns, Examples on each
class and function, ...) is checked. The examples themselves run as doctests (``pyproject.toml``).
"""

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest
from numpydoc.docscrape import NumpyDocString
from sklearn.base import BaseEstimator

numpydoc_validate = pytest.importorskip("numpydoc.validate")

PACKAGE = "sklearn_convexrelu"
API = Path(__file__).resolve().parents[1] / "doc" / "api.rst"

# always ignored; see the module docstring
IGNORED = {"RT02"}
# ignored on methods and properties only (the class docstring carries them)
IGNORED_ON_MEMBERS = {"ES01", "SA01", "EX01"}


def _api_modules_and_names():
    """The modules ``doc/api.rst`` documents, and the names its autosummary blocks list per module."""
    modules, listed, current, in_summary = [PACKAGE], [], PACKAGE, False
    for line in API.read_text(encoding="utf-8").splitlines():
        directive = re.match(r"\.\. (?:currentmodule|py:module|automodule):: (\S+)", line)
        if directive:
            current = directive.group(1)
            if current not in modules:
                modules.append(current)
            continue
        if line.startswith(".. autosummary::"):
            in_summary = True
            continue
        if in_summary:
            if line.strip() and not line.startswith("   "):
                in_summary = False
            elif line.strip() and not line.strip().startswith(":"):
                listed.append((current, line.strip()))
    return modules, listed


def _ours(obj):
    return (getattr(obj, "__module__", None) or "").startswith(PACKAGE)


def _public_names():
    """``(qualified name, class, member)`` of every public class, function, method and property;
    ``member`` is ``None`` for a class or function."""
    modules, listed = _api_modules_and_names()
    objects = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        objects += [getattr(module, name) for name in getattr(module, "__all__", []) if not name.startswith("_")]
    objects += [getattr(importlib.import_module(module), name) for module, name in listed]
    found = {}
    for obj in objects:
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and _ours(obj):
            found[f"{obj.__module__}.{obj.__qualname__}"] = (obj, None)
    for qualname, (obj, _) in list(found.items()):
        if not inspect.isclass(obj):
            continue
        for name in dir(obj):
            if name.startswith("_"):
                continue
            owner = next((klass for klass in obj.__mro__ if name in vars(klass)), None)
            if owner is None or not _ours(owner):  # e.g. BaseEstimator.get_params, RegressorMixin.score
                continue
            attr = vars(owner)[name]
            func = getattr(attr, "__func__", None) or getattr(attr, "fn", None) or attr  # available_if
            if isinstance(attr, property) or (inspect.isfunction(func) and _ours(func)):
                found[f"{qualname}.{name}"] = (obj, name)
    return sorted((name, cls, member) for name, (cls, member) in found.items())


PUBLIC = _public_names()


def _is_record(cls):
    """A dataclass documented as a result record (fields under ``Attributes``, no ``Parameters``)."""
    if not dataclasses.is_dataclass(cls):
        return False
    parsed = NumpyDocString(inspect.getdoc(cls))
    return not parsed["Parameters"] and bool(parsed["Attributes"])


def _record_problems(cls):
    """The fields of a result record that its ``Attributes`` section does not list."""
    parsed = NumpyDocString(inspect.getdoc(cls))
    documented = {name.strip() for entry in parsed["Attributes"] for name in entry.name.split(",")}
    missing = [field.name for field in dataclasses.fields(cls) if field.init and field.name not in documented]
    return [f"PR01 (record): fields {missing} are not listed under Attributes"] if missing else []


def _needs_method_examples(cls):
    return not issubclass(cls, BaseEstimator) and not dataclasses.is_dataclass(cls) and not issubclass(cls, Warning)


def _ignored(code, obj, member):
    if code in IGNORED:
        return True
    if member is not None and code in IGNORED_ON_MEMBERS:
        is_property = isinstance(inspect.getattr_static(obj, member), property)
        return not (code == "EX01" and not is_property and _needs_method_examples(obj))
    return code == "PR01" and member is None and inspect.isclass(obj) and _is_record(obj)


def _errors(name, obj, member):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"] if not _ignored(code, obj, member)]
    if member is None and inspect.isclass(obj) and _is_record(obj):
        errors += _record_problems(obj)
    return errors


def test_public_names_found():
    names = {name.rsplit(".", 1)[-1] for name, _, _ in PUBLIC}
    expected = {"ConvexReLURegressor", "fit", "convex_relu_path", "OptimalSet", "sample", "optimality_certificate",
                "OptimalSetWarning", "enumerate_arrangements"}
    assert expected <= names
    assert "get_params" not in names and "score" not in names  # scikit-learn's, inherited unchanged


def _bad_function(X, alpha=1.0):
    """compute something.

    Parameters
    ----------
    X : ndarray
    """
    return X


def test_validation_can_fail():
    errors = _errors(f"{__name__}._bad_function", _bad_function, None)
    codes = {error.split(":")[0] for error in errors}
    assert {"SS02", "PR01", "PR07", "RT01", "EX01", "SA01", "ES01"} <= codes


@pytest.mark.parametrize(("name", "obj", "member"), PUBLIC, ids=[name for name, _, _ in PUBLIC])
def test_numpydoc_validation(name, obj, member):
    errors = _errors(name, obj, member)
    assert not errors, f"{name}:\n  " + "\n  ".join(errors)
