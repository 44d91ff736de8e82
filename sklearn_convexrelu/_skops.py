"""Secure persistence with skops: the package's types are registered as trusted (issue 14).

``skops.io.load`` refuses every type it does not trust by default, and it trusts only
scikit-learn's own estimators (type names starting with ``"sklearn."``). A fitted estimator of this
package is made of numpy arrays, Python primitives and containers, and the plain data classes
listed in :data:`TRUSTED_TYPES`: none defines ``__reduce__`` or ``__setstate__``, so loading one
only creates the object and sets its attributes (themselves audited), as for scikit-learn's
estimators. Importing the package adds these names to skops's default trusted list, so
``skops.io.load`` loads a fitted estimator without ``trusted=``. skops is not imported for this
(it imports every scikit-learn estimator, seconds): the names are registered when skops is
imported, before or after this package.

Examples
--------
>>> import numpy as np
>>> import skops.io
>>> from sklearn_convexrelu import ConvexReLURegressor
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> reg = ConvexReLURegressor(alpha=0.1).fit(X, [0.0, 1.0, 0.0, 1.0])
>>> skops.io.get_untrusted_types(data=skops.io.dumps(reg))
[]
>>> loaded = skops.io.loads(skops.io.dumps(reg))
>>> bool(np.array_equal(loaded.predict(X), reg.predict(X)))
True
"""

import importlib.abc
import importlib.util
import sys

__all__ = ["TRUSTED_TYPES", "register_skops_types"]


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


def register_skops_types():
    """Add :data:`TRUSTED_TYPES` to the types ``skops.io.load`` trusts by default.

    Called automatically when skops is imported; idempotent.
    """
    from skops.io import _trusted_types  # skops has no public registry: its default trusted list

    trusted = _trusted_types.SKLEARN_ESTIMATOR_TYPE_NAMES  # the list the loader reads (in place)
    trusted.extend(name for name in TRUSTED_TYPES if name not in trusted)


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
            try:
                register_skops_types()
            except Exception:  # a skops without this list: loading then needs trusted=
                pass

        spec.loader.exec_module = exec_module
        return spec


def install():
    """Register now if skops is imported, else as soon as it is."""
    if "skops.io" in sys.modules:
        try:
            register_skops_types()
        except Exception:  # a skops without this list: loading then needs trusted=
            pass
    elif not any(isinstance(finder, _RegisterWhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenImported())
