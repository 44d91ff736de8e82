"""Secure persistence with skops: the package's types, for ``skops.io.load(..., trusted=...)``.

``skops.io.load`` refuses every type it does not trust by default, and it trusts only
scikit-learn's own estimators (type names starting with ``"sklearn."``). A fitted estimator of this
package is made of numpy arrays, Python primitives and containers, and the plain data classes
named by :func:`skops_trusted_types`: none defines ``__reduce__`` or ``__setstate__``, so loading
one only creates the object and sets its attributes (themselves audited), as for scikit-learn's
estimators.

skops's supported way to load other types is its ``trusted=`` argument, which takes a list of type
names: ``skops.io.load(file, trusted=skops_trusted_types())`` works with every skops that has it
(≥ 0.10) and still refuses any other type in the file. skops has no public registry of default
trusted types; where its private list is found (:func:`register_skops_types` checks that the loader
reads it), importing the package also adds the names to it, so that plain ``skops.io.load(file)``
works. skops is not imported for this (it imports every scikit-learn estimator, seconds): the names
are registered when skops is imported, before or after this package.

Examples
--------
>>> import numpy as np
>>> import skops.io
>>> from sklearn_convexrelu import ConvexReLURegressor, skops_trusted_types
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> reg = ConvexReLURegressor(alpha=0.1).fit(X, [0.0, 1.0, 0.0, 1.0])
>>> data = skops.io.dumps(reg)
>>> loaded = skops.io.loads(data, trusted=skops_trusted_types())
>>> bool(np.array_equal(loaded.predict(X), reg.predict(X)))
True
>>> set(skops.io.get_untrusted_types(data=data)) <= set(skops_trusted_types())
True
"""

import importlib.abc
import importlib.util
import sys

__all__ = ["TRUSTED_TYPES", "register_skops_types", "skops_trusted_types"]


def _type_names():
    from ._classifier import ConvexReLUClassifier
    from ._cv import ConvexReLUClassifierCV, ConvexReLURegressorCV
    from ._regressor import ConvexReLURegressor
    from .arrangements import Arrangements
    from .network import ConvexSolution, TwoLayerReLUNetwork
    from .optimal_set._atoms import Atoms
    from .optimal_set._invariances import Invariances
    from .optimal_set._polytope import CoefficientPolytope
    from .optimal_set._set import OptimalSet
    from .pattern_search import PatternSearch
    from .program.certificate import Certificate
    from .program.losses import _BinaryLogLoss, _SoftmaxCrossEntropy, _SquaredError
    from .program.penalty import GroupNormPenalty

    classes = (
        ConvexReLURegressor, ConvexReLUClassifier, ConvexReLURegressorCV, ConvexReLUClassifierCV, Arrangements,
        ConvexSolution, TwoLayerReLUNetwork, Atoms, Invariances, CoefficientPolytope, OptimalSet, PatternSearch,
        Certificate, _SquaredError, _BinaryLogLoss, _SoftmaxCrossEntropy, GroupNormPenalty,
    )
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in classes]


#: Fully qualified names of the package's types that may appear in a fitted estimator.
TRUSTED_TYPES = _type_names()


def skops_trusted_types():
    """Return the names of the package's types, to load a fitted estimator with ``skops.io.load``.

    A fitted estimator, alone or in a scikit-learn pipeline or search, holds numpy arrays, Python
    primitives and containers, scikit-learn objects and the plain data classes of this package
    named here: the estimators, :class:`TwoLayerReLUNetwork`, :class:`ConvexSolution`,
    :class:`Arrangements`, :class:`Certificate`, :class:`OptimalSet` and its parts,
    :class:`Invariances`, the pattern search report, the losses and the penalty. None of them
    defines ``__reduce__`` or ``__setstate__``: loading one only sets attributes that skops has
    audited. Passing the list as ``trusted=`` trusts these types and no other: a file holding any
    other untrusted type is still refused.

    Returns
    -------
    names : list of str
        Fully qualified type names, the form ``skops.io.get_untrusted_types`` reports.

    See Also
    --------
    skops.io.load : Loads a skops file, trusting the types named in ``trusted=``.
    skops.io.get_untrusted_types : The types of a file that skops does not trust by default.

    Examples
    --------
    >>> import numpy as np
    >>> import skops.io
    >>> from sklearn_convexrelu import ConvexReLUClassifier, skops_trusted_types
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = ConvexReLUClassifier(alpha=0.01).fit(X, [0, 1, 1, 0])
    >>> loaded = skops.io.loads(skops.io.dumps(clf), trusted=skops_trusted_types())
    >>> loaded.predict(X).tolist()
    [0, 1, 1, 0]
    """
    return list(TRUSTED_TYPES)


def _default_trusted_list():
    """skops's private list of default trusted type names, if its loader reads it, else ``None``.

    skops 0.10–0.16 keep it in ``skops.io._trusted_types.SKLEARN_ESTIMATOR_TYPE_NAMES`` and the
    object loader (``skops.io._general``) reads that very list when it builds a node.
    """
    try:
        from skops.io import _general, _trusted_types
    except ImportError:
        return None
    trusted = getattr(_trusted_types, "SKLEARN_ESTIMATOR_TYPE_NAMES", None)
    if not isinstance(trusted, list) or getattr(_general, "SKLEARN_ESTIMATOR_TYPE_NAMES", None) is not trusted:
        return None
    return trusted


def register_skops_types():
    """Add the package's types to the types ``skops.io.load`` trusts by default, if skops allows it.

    Called automatically when skops is imported; idempotent. skops has no public registry: this
    extends its private default list after checking that its loader reads that list.

    Returns
    -------
    registered : bool
        Whether a plain ``skops.io.load(file)`` now trusts the package's types. If ``False``, load
        with ``skops.io.load(file, trusted=skops_trusted_types())``.
    """
    trusted = _default_trusted_list()
    if trusted is None:
        return False
    trusted.extend(name for name in TRUSTED_TYPES if name not in trusted)
    return True


class _RegisterWhenImported(importlib.abc.MetaPathFinder):
    """Registers the types right after ``skops.io`` is imported (no import of skops here)."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "skops.io":
            return None
        sys.meta_path.remove(self)  # let the normal finders find it, once
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            register_skops_types()  # False on a skops without the list: loading then needs trusted=

        spec.loader.exec_module = exec_module
        return spec


def install():
    """Register now if skops is imported, else as soon as it is."""
    if "skops.io" in sys.modules:
        register_skops_types()  # False on a skops without the list: loading then needs trusted=
    elif not any(isinstance(finder, _RegisterWhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenImported())
