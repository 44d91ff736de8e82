"""sklearn-convexrelu: two-layer ReLU networks trained to global optimality.

The estimators solve the convex reformulation of the regularised training problem over the
activation patterns of the data and expose the optimal network with a certificate of what its
optimality covers.
"""

from ._classifier import ConvexReLUClassifier
from ._cv import ConvexReLUClassifierCV, ConvexReLURegressorCV
from ._path import convex_relu_path
from ._regressor import ConvexReLURegressor
from .arrangements import Arrangements, arrangement_count_bound, enumerate_arrangements, sample_arrangements
from .network import ConvexSolution, TwoLayerReLUNetwork
from .optimal_set import Invariances, OptimalSet
from .program.certificate import Certificate

from ._skops import install as _install_skops
from ._skops import skops_trusted_types

__version__ = "0.1.0.dev0"

_install_skops()  # skops.io.load trusts the package's types (sklearn_convexrelu._skops)

__all__ = [
    "Arrangements",
    "Certificate",
    "ConvexReLUClassifier",
    "ConvexReLUClassifierCV",
    "ConvexReLURegressor",
    "ConvexReLURegressorCV",
    "ConvexSolution",
    "Invariances",
    "OptimalSet",
    "TwoLayerReLUNetwork",
    "arrangement_count_bound",
    "convex_relu_path",
    "enumerate_arrangements",
    "sample_arrangements",
    "skops_trusted_types",
    "__version__",
]
