"""sklearn-convexrelu: two-layer ReLU networks trained to global optimality.

The estimators solve the convex reformulation of the regularised training problem over the
activation patterns of the data and expose the optimal network with a certificate of what its
optimality covers.
"""

from ._classifier import ConvexReLUClassifier
from ._regressor import ConvexReLURegressor
from .arrangements import Arrangements, arrangement_count_bound, enumerate_arrangements, sample_arrangements
from .network import ConvexSolution, TwoLayerReLUNetwork
from .program.certificate import Certificate

__version__ = "0.1.0.dev0"

__all__ = [
    "Arrangements",
    "Certificate",
    "ConvexReLUClassifier",
    "ConvexReLURegressor",
    "ConvexSolution",
    "TwoLayerReLUNetwork",
    "arrangement_count_bound",
    "enumerate_arrangements",
    "sample_arrangements",
    "__version__",
]
