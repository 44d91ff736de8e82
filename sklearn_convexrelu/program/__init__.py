"""The convex program, independent of how it is solved (SPEC §3, §4).

Losses, the forward operator and its adjoint, cone projections and the duality-gap certificate.
"""

from .certificate import Certificate, DualPoint, dual_point, duality_certificate, program_dual_point
from .cones import cone_kappas, project_onto_cone, project_onto_cones
from .losses import encode_targets, get_loss, normalized_weights
from .operators import adjoint, forward
from .penalty import GroupNormPenalty

__all__ = [
    "Certificate",
    "DualPoint",
    "GroupNormPenalty",
    "adjoint",
    "cone_kappas",
    "dual_point",
    "duality_certificate",
    "encode_targets",
    "forward",
    "get_loss",
    "normalized_weights",
    "program_dual_point",
    "project_onto_cone",
    "project_onto_cones",
]
