"""Every public function, class and method documents its actual parameters (numpydoc).

Public names are the ``__all__`` of the package and of its public modules (no component of the
module path starts with an underscore; a public module without ``__all__`` contributes the public
functions and classes it defines), plus the public methods and properties of public classes that
are defined in this package. For each:

- the docstring has a summary line;
- the numpydoc ``Parameters`` section names the signature's parameters, in order (``self``/``cls``
  dropped, ``*args``/``**kwargs`` written as such); a class is checked against its constructor, and
  a dataclass that is a result record may document its fields under ``Attributes`` instead;
- a parameter with a default says ``default=<value>`` on its type line, and a literal value there
  is the signature's (scikit-learn's wording: ``alpha : float, default=1e-3``);
- a function or method that returns a value has a ``Returns`` (or ``Yields``) section.
"""

import ast
import dataclasses
import importlib
import inspect
import pathlib
import pkgutil
import re
import textwrap
import warnings

import pytest
from numpydoc.docscrape import NumpyDocString

import sklearn_convexrelu

PACKAGE = sklearn_convexrelu.__name__


def _public_modules():
    modules = [sklearn_convexrelu]
    for info in pkgutil.walk_packages(sklearn_convexrelu.__path__, prefix=PACKAGE + "."):
        parts = info.name.split(".")[1:]
        if any(part.startswith("_") for part in parts) or parts[-1] in ("conftest", "tests"):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _ours(obj):
    return (getattr(obj, "__module__", None) or "").startswith(PACKAGE)


def _module_names(module):
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name for name, obj in vars(module).items()
        if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    ]


def _public_objects():
    """``(qualified name, object, kind)`` for every public function, class, method and property."""
    found = {}
    for module in _public_modules():
        for name in _module_names(module):
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and _ours(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", (obj, "class" if inspect.isclass(obj) else "function"))
    for qualname, (cls, kind) in list(found.items()):
        if kind != "class":
            continue
        for klass in reversed(cls.__mro__):  # a subclass's own definition wins
            if not _ours(klass):
                continue
            for name, attr in vars(klass).items():
                if name.startswith("_"):
                    continue
                if isinstance(attr, property):
                    found[f"{qualname}.{name}"] = (attr, "property")
                elif isinstance(attr, (staticmethod, classmethod)) and _ours(attr.__func__):
                    found[f"{qualname}.{name}"] = (attr, "method")
                elif inspect.isfunction(attr) and _ours(attr):
                    found[f"{qualname}.{name}"] = (attr, "method")
                elif inspect.isfunction(getattr(attr, "fn", None)) and _ours(attr.fn):  # available_if
                    found[f"{qualname}.{name}"] = (attr.fn, "method")
    return sorted((name, obj, kind) for name, (obj, kind) in found.items())


PUBLIC = _public_objects()


def _signature_names(func, drop_first):
    names = []
    for parameter in inspect.signature(func).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append("*" + parameter.name)
        elif parameter.kind is parameter.VAR_KEYWORD:
            names.append("**" + parameter.name)
        else:
            names.append(parameter.name)
    return names[1:] if drop_first else names


def _documented_names(section):
    # "fit_intercept, exact : bool" documents two parameters
    return [name.strip() for entry in section for name in entry.name.split(",") if name.strip()]


def _default_problems(func, section):
    """A parameter with a default says ``default=<value>`` (scikit-learn's wording), and a literal
    value there is the signature's."""
    types = {name.strip(): entry.type for entry in section for name in entry.name.split(",")}
    problems = []
    for name, parameter in inspect.signature(func).parameters.items():
        if parameter.default is parameter.empty or name not in types:
            continue
        match = re.search(r"default=(.*)$", types[name])
        if match is None:
            problems.append(f"{name}: the type line does not say default={parameter.default!r}")
            continue
        try:
            documented = ast.literal_eval(match.group(1).strip())
        except (ValueError, SyntaxError):  # e.g. default=np.inf: not a literal, not compared
            continue
        same_kind = isinstance(documented, bool) == isinstance(parameter.default, bool)  # True == 1
        if not (same_kind and documented == parameter.default):
            problems.append(f"{name}: documented default={match.group(1).strip()}, actual {parameter.default!r}")
    return problems


def _returns_value(func):
    """Whether the function's own body has ``return <value>`` or ``yield``."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return False
    tree = ast.parse(source).body[0]

    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, (ast.Yield, ast.YieldFrom)):
                return True
            if isinstance(child, ast.Return) and child.value is not None and not (
                isinstance(child.value, ast.Constant) and child.value.value is None
            ):
                return True
            if walk(child):
                return True
        return False

    return walk(tree)


def _constructor_names(cls):
    """The constructor's parameters, or ``None`` when the class does not define one."""
    if dataclasses.is_dataclass(cls):
        return [field.name for field in dataclasses.fields(cls) if field.init]
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            return _signature_names(klass.__init__, drop_first=True) if _ours(klass) else None
    return None


def _problems(obj, kind):
    doc = inspect.getdoc(obj.fget if kind == "property" else obj)
    if not doc:
        return ["no docstring"]
    problems = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsed = NumpyDocString(doc)
    problems += [f"numpydoc: {warning.message}" for warning in caught]
    if not "".join(parsed["Summary"]).strip():
        problems.append("no summary line")
    if kind == "property":
        return problems

    func = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    if kind == "class":
        expected = _constructor_names(obj)
        documented = _documented_names(parsed["Parameters"])
        if expected is not None and dataclasses.is_dataclass(obj) and not documented:
            # a result record documents its fields as attributes; properties may be listed too
            attributes = _documented_names(parsed["Attributes"])
            stale = [name for name in attributes if name not in expected and not hasattr(obj, name)]
            if stale:
                problems.append(f"Attributes documents {stale}, which the class does not have")
            documented = [name for name in attributes if name in expected]
        if expected is not None and documented != expected:
            problems.append(f"documented parameters {documented} != signature {expected}")
        if expected is not None and not dataclasses.is_dataclass(obj):
            init = next(klass.__init__ for klass in obj.__mro__ if "__init__" in vars(klass))
            problems += _default_problems(init, parsed["Parameters"])
        return problems

    expected = _signature_names(func, drop_first=not isinstance(obj, staticmethod) and kind == "method")
    documented = _documented_names(parsed["Parameters"])
    if documented != expected:
        problems.append(f"documented parameters {documented} != signature {expected}")
    problems += _default_problems(func, parsed["Parameters"])
    if _returns_value(func) and not (parsed["Returns"] or parsed["Yields"]):
        problems.append("returns a value but has no Returns section")
    return problems


def _misdocumented(X, y, *, alpha=1.0, tol=1e-4, fit_intercept=True):
    """A function whose docstring is out of date.

    Parameters
    ----------
    y : ndarray
    X : ndarray
    alpha : float
    tol : float, default=1e-3
    fit_intercept : bool, default=1
    """
    return X


def test_checker_flags_mismatches():
    problems = _problems(_misdocumented, "function")
    assert any("!= signature ['X', 'y', 'alpha', 'tol', 'fit_intercept']" in problem for problem in problems)
    assert "alpha: the type line does not say default=1.0" in problems
    assert "tol: documented default=1e-3, actual 0.0001" in problems
    assert "fit_intercept: documented default=1, actual True" in problems
    assert "returns a value but has no Returns section" in problems


def test_public_names_found():
    names = {name.rsplit(".", 1)[-1] for name, _, _ in PUBLIC}
    assert {"ConvexReLURegressor", "fit", "convex_relu_path", "optimality_certificate"} <= names


@pytest.mark.parametrize(("name", "obj", "kind"), PUBLIC, ids=[name for name, _, _ in PUBLIC])
def test_docstring_documents_parameters(name, obj, kind):
    problems = _problems(obj, kind)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_no_skipped_doctests():
    # the examples run as doctests (pyproject.toml): one that cannot run is rewritten, not skipped
    root = sklearn_convexrelu.__path__[0]
    skipped = [
        str(path.relative_to(root)) for path in pathlib.Path(root).rglob("*.py")
        if re.search(r"doctest:\s*\+SKIP", path.read_text(encoding="utf-8"))
    ]
    assert not skipped, f"doctests skipped in {skipped}"
