"""Dual feasibility when the hidden bias is not penalised: moved to :mod:`sklearn_convexrelu.program._bias_free`.

The program of scikit-learn's MLP objective is (C-ReLU) with the penalty
``GroupNormPenalty(penalize_hidden_bias=False)`` (:mod:`sklearn_convexrelu.program.penalty`), which
owns its κ; this name stays for existing imports.
"""

from ..program._bias_free import bias_free_kappas

__all__ = ["bias_free_kappas"]
