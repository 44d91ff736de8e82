"""The convex program, independent of how it is solved (SPEC §3, §4).

Losses, the forward operator and its adjoint, cone projections and the duality-gap certificate.
"""

from .certificate import Certificate, duality_certificate
from .cones import cone_kappas, project_onto_cone, project_onto_cones
from .losses import encode_targets, get_loss, normalized_weights
from .operators import adjoint, forward

__all__ = [
    "Certificate",
    "adjoint",
    "cone_kappas",
    "duality_certificate",
    "encode_targets",
    "forward",
    "get_loss",
    "normalized_weights",
    "project_onto_cone",
    "project_onto_cones",
]
