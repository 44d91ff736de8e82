"""One preparation layer: user input → the inputs of the convex program (SPEC §1, §2, §9).

The estimators, :func:`~sklearn_convexrelu.convex_relu_path`, the CV estimators and the landscape
tools all turn data, targets and sample weights into ``(X̃, patterns, Y, s)`` the same way, through
the functions of this module:

- :func:`positive_rows`: validated sample weights, zero-weight rows dropped, the others rescaled to
  sum to their number (SPEC §1);
- :func:`encode_classes` / :func:`encode_labels`: class labels as ±1 (binary, one output, the
  second class positive) or one-hot (K classes, K outputs) targets (SPEC §9);
  :func:`encode_values`: regression targets as an (n_samples, n_outputs) array;
- :func:`augment`: the design ``X̃ = [X, 1]`` with a hidden bias, else ``X`` (SPEC §1);
- :func:`arrangement_mode` and :func:`build_arrangements`: the ``arrangements="auto"`` rule and the
  pattern set it stands for (SPEC §2);
- :func:`resolve_solver` and :func:`check_program_size`: the ``solver="auto"`` rule and the memory
  guard of the cvxpy program (SPEC §3, §7); :func:`check_enumeration_size` and
  :func:`check_sampling_size`: the guards of every path that builds patterns, checked before the
  work starts;
- :func:`prepare`: all of the above for one fit on one pattern set.

Where the former copies disagreed, one behaviour was chosen:

- ``solver="auto"`` of :func:`~sklearn_convexrelu.convex_relu_path` (and so of the CV folds) is the
  estimators' rule; it used to mean ``"cvxpy"`` always, so a ``log_loss`` path now uses the
  first-order solver, as the classifier it is compared with;
- ``arrangements="auto"`` is one rule with what lies beyond ``max_arrangements`` as its argument: a
  pattern search for the estimators, sampling for a path, the CV estimators and the landscape tools
  (whose documented default ``n_arrangements=200`` is kept, against the estimators' 100);
- re-applied generators (an estimator's warm start, a pattern set given to the path) drop duplicate
  and all-zero patterns, as the path did (the warm start kept them);
- sample weights are validated by scikit-learn's ``_check_sample_weight`` everywhere (the landscape
  tools had their own checks, with other messages).
"""

import os
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from ._sklearn_compat import _check_sample_weight
from .arrangements import (
    Arrangements, arrangement_count_bound, enumerate_arrangements, first_distinct_columns, sample_arrangements,
)
from .arrangements import _augment as augment
from .program.losses import encode_targets, normalized_weights

__all__ = [
    "PreparedData",
    "arrangement_mode",
    "augment",
    "build_arrangements",
    "check_enumeration_size",
    "check_program_size",
    "check_sample_weight",
    "check_scale",
    "check_sampling_size",
    "encode_classes",
    "encode_labels",
    "encode_values",
    "positive_rows",
    "prepare",
    "resolve_solver",
]

# solver="auto" uses cvxpy (interior point, ~1e-10 relative gaps) for the squared loss on programs
# with at most this many cone rows 2·n·P·K, and the first-order solver beyond and for log_loss, where
# Clarabel's exponential cones are inaccurate at small alpha. Measured crossover
# (benchmarks/results/solver_auto.md: one solve + polish + certificate, one BLAS thread, alpha 1e-3,
# tol 1e-6, same patterns): Clarabel is faster on small programs with many unknowns per sample
# (p = 10, 20-50 gates, n = 30-100, 1,200-5,000 rows: 0.05-0.18 s against 0.2-0.8 s, 2 to 10 times);
# from about 10,000 rows the first-order solver wins and the gap widens with size (n = 100, 100 gates,
# 20,000 rows: 0.25 s against 0.97 s; n = 20 in 2-D, 381 exact patterns, 15,240 rows: 0.08 against
# 0.26 s; 1-D, 399 exact patterns, 159,600 rows: 0.05 against 2.4 s; Clarabel takes more than a
# minute from a few 10^5 rows), with objectives within tol (|Δ| ≤ 3e-7 relative) and certified gaps
# below tol. All rows are noisy (a shared machine); the threshold sits between the two groups.
_AUTO_CVXPY_ROWS = 8_000

# A first-order fit certified above tol (e.g. the sublinear tail of column generation) is solved
# again by the interior-point solver when the program has at most this many cone rows 2·n·P·K (measured:
# Clarabel solves 13,090 rows in 0.6 s to a gap of 3e-9, where 1,000 more first-order iterations
# took 4 s and stayed at 2e-4; 60,000 rows take it 4.4–5.1 s of CPU (n = 100, P = 300 and n = 300,
# P = 100, 10 features), more than a minute from a few 10^5 rows).
_FINISH_ROWS = 60_000
# Largest program (cone rows 2·n·P·K) that cvxpy re-solves when the first-order solver of a
# solver="auto" path misses tol at a point: about a minute of Clarabel (benchmarks/results/solver_auto.md).
_FALLBACK_CVXPY_ROWS = 400_000

# Exact enumeration makes about 4,000 patterns a second on one core at n ≈ 100 (measured: 68,559
# patterns of 60 points in R^3 in 9 s, 561,919 of 120 points in 137 s), and everything after it (the
# solver's masks, the certificate, the optimal set) is linear in the number of patterns: beyond this
# bound, arrangements="exact" refuses before it starts.
_MAX_EXACT_PATTERNS = 1_000_000

# Bytes per pattern and sample of building a pattern set: the products X̃G (float64), the boolean
# pattern matrix and its packed copy used to drop duplicates.
_BYTES_PER_PATTERN_SAMPLE = 8 + 1 + 1

# Bytes per nonzero of the compiled cvxpy program (data, indices and the copies made while
# canonicalising), measured on Clarabel fits; the guard refuses programs above half the free memory.
_BYTES_PER_PROGRAM_NONZERO = 200


# --------------------------------------------------------------------------------------------------
# Sample weights (SPEC §1)


def check_sample_weight(sample_weight, X):
    """Validated sample weights of shape (n_samples,): finite, non-negative, not all zero (ones for None).

    Zero weights are kept (a CV estimator scores its test folds with them); :func:`positive_rows`
    drops them from a fit.
    """
    return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)


# Largest magnitude of data and targets: the objective, the cone projections and the certificate
# square them (and multiply them by the weights), so larger values overflow double precision.
_MAX_ABS_VALUE = 1e100


def check_scale(X, Y):
    """Refuse data or targets that are not finite or whose squares overflow in the objective.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    """
    for name, values, advice in (
        ("X", X, "Standardise X (e.g. with StandardScaler)"),
        ("y", Y, "Rescale y (e.g. divide it by its standard deviation and multiply predictions back)"),
    ):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or infinity: remove or impute those samples first.")
        largest = float(np.max(np.abs(values), initial=0.0))
        if largest > _MAX_ABS_VALUE:
            raise ValueError(
                f"{name} has values up to {largest:.3g} in magnitude, beyond {_MAX_ABS_VALUE:.0e}: the "
                f"training objective and its duality certificate square them and overflow double "
                f"precision. {advice}."
            )


def positive_rows(X, Y, sample_weight):
    """Rows of positive weight and their weights rescaled to sum to their number (SPEC §1).

    Zero-weight samples do not enter the objective; they are removed before the patterns are built
    (a pattern set is a property of the rows that are fitted).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative and finite, not all zero (scikit-learn's ``_check_sample_weight``).

    Returns
    -------
    X : ndarray of shape (n_kept, n_features)
    Y : ndarray of shape (n_kept, n_outputs)
    s : ndarray of shape (n_kept,)
        Positive weights with ``s.sum() == n_kept``.
    """
    check_scale(X, Y)
    s = check_sample_weight(sample_weight, X)
    keep = s > 0
    if keep.all():
        return X, Y, normalized_weights(s, s.size)
    return X[keep], Y[keep], normalized_weights(s[keep], int(keep.sum()))


# --------------------------------------------------------------------------------------------------
# Targets (SPEC §9)


def encode_values(y):
    """Regression targets as a float array of shape (n_samples, n_outputs)."""
    return encode_targets(y, "squared_error")


def _class_targets(labels, n_classes):
    """±1 for two classes (one output, class 1 positive), one-hot for more (SPEC §9)."""
    if n_classes == 2:
        return np.where(labels == 1, 1.0, -1.0)[:, None]
    return np.eye(n_classes)[labels]


def encode_classes(y):
    """Classes and encoded targets of class labels, as the classifiers fit them (SPEC §9).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels (at least two distinct ones).

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        ``np.unique(y)``.
    Y : ndarray of shape (n_samples, 1) or (n_samples, n_classes)
        ``ỹ ∈ {−1, +1}`` with ``classes[1]`` positive for two classes, one-hot otherwise.
    """
    check_classification_targets(y)
    classes, labels = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            "The classifier needs samples of at least 2 classes in the data, but the data "
            f"contain only one class: {classes[0]!r}."
        )
    return classes, _class_targets(labels.reshape(-1), classes.size)


def encode_labels(y, classes):
    """Targets of labels ``y`` over known ``classes``, encoded as :func:`encode_classes` does.

    Raises ``ValueError`` when ``y`` has a label that is not in ``classes``.
    """
    y = np.asarray(y).reshape(-1)
    labels = np.searchsorted(classes, y)
    if np.any(labels >= classes.size) or np.any(classes[np.minimum(labels, classes.size - 1)] != y):
        raise ValueError(f"y contains labels that are not among the classes {classes!r}.")
    return _class_targets(labels, classes.size)


# --------------------------------------------------------------------------------------------------
# Activation patterns (SPEC §2)


def arrangement_mode(arrangements, X, *, hidden_bias, max_arrangements, beyond):
    """What ``arrangements`` stands for on the rows ``X`` that are fitted.

    ``"auto"`` enumerates exactly when the bound on the number of patterns is at most
    ``max_arrangements`` (SPEC §2) and otherwise means ``beyond``: ``"search"`` for the estimators
    (a pattern search is specific to one ``alpha``, SPEC §7), ``"sample"`` for a path, the CV
    estimators and the landscape tools (one pattern set for every ``alpha``). Any other value
    (including an :class:`Arrangements`) is returned unchanged.
    """
    if not (isinstance(arrangements, str) and arrangements == "auto"):
        return arrangements
    bound = arrangement_count_bound(X, hidden_bias=hidden_bias)
    return "exact" if bound <= max_arrangements else beyond


def _reapplied(arrangements, X):
    """The generators of ``arrangements`` applied to the rows ``X``.

    Duplicate and all-zero patterns are dropped (first occurrence kept); ``exact`` survives only if
    the patterns are unchanged.
    """
    patterns = arrangements.patterns_on(X)
    unchanged = patterns.shape == arrangements.patterns.shape and np.array_equal(patterns, arrangements.patterns)
    first = first_distinct_columns(patterns)
    first = first[patterns[:, first].any(axis=0)]
    return Arrangements(
        patterns[:, first], arrangements.generators[:, first], arrangements.exact and unchanged,
        arrangements.hidden_bias, arrangements.n_sampled, arrangements.description,
    )


def build_arrangements(X, mode, *, hidden_bias, n_arrangements, random_state):
    """The pattern set of a fit on the rows ``X`` (SPEC §2).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The fitted rows (positive weight).
    mode : {"exact", "sample"} or Arrangements
        Resolved by :func:`arrangement_mode`. An :class:`Arrangements` has its generators re-applied
        to ``X`` (a warm start, or a pattern set given to the path).
    hidden_bias : bool
        Ignored for an :class:`Arrangements`, which carries its own.
    n_arrangements : int
        Gaussian gates drawn when sampling.
    random_state : int, RandomState instance or None

    Returns
    -------
    Arrangements
    """
    if isinstance(mode, Arrangements):
        return _reapplied(mode, X)
    if mode == "exact":
        check_enumeration_size(X, hidden_bias=hidden_bias)
        return enumerate_arrangements(X, hidden_bias=hidden_bias)
    if mode == "sample":
        check_sampling_size(X.shape[0], X.shape[1] + bool(hidden_bias), n_arrangements)
        return sample_arrangements(X, n_arrangements, hidden_bias=hidden_bias, random_state=check_random_state(random_state))
    raise ValueError(f"arrangements must be 'auto', 'exact', 'sample' or an Arrangements; got {mode!r}.")


# --------------------------------------------------------------------------------------------------
# Solver (SPEC §3, §7)


def cone_rows(n_samples, n_patterns, n_outputs):
    """Cone rows ``2 · n · P · K`` of (C-ReLU): the size of its program for cvxpy."""
    return 2 * n_samples * n_patterns * n_outputs


def cvxpy_second_solve(n_samples, n_patterns, n_outputs, *, along_path=False):
    """Whether cvxpy solves again what the first-order solver did not certify to ``tol``: programs
    of at most ``_FINISH_ROWS`` cone rows for one fit, ``_FALLBACK_CVXPY_ROWS`` at a point of a
    regularisation path (see the comments on both)."""
    return cone_rows(n_samples, n_patterns, n_outputs) <= (_FALLBACK_CVXPY_ROWS if along_path else _FINISH_ROWS)


def resolve_solver(solver, loss, n_samples, n_patterns, n_outputs, *, searched=False):
    """The solver ``"auto"`` stands for (any other value is returned unchanged).

    ``loss`` is the loss object (:func:`~sklearn_convexrelu.program.get_loss`); the rule asks it
    whether it is quadratic (a second-order cone program for cvxpy), not for its name.
    cvxpy (the reference, interior point) for a quadratic loss on programs with at most
    ``_AUTO_CVXPY_ROWS`` = 8,000 cone rows ``2 · n · P · K``, where it is the faster of the two;
    the first-order solver for larger programs (measured faster from about 10,000 rows, 4 to 50
    times at 2·10⁴–2·10⁵ rows, with objectives within ``tol``: see the comment on
    ``_AUTO_CVXPY_ROWS``), for the other losses (``log_loss``: Clarabel's exponential cones are inaccurate at small
    ``alpha``), after a pattern search, whose first-order solver already holds the solution to
    ``tol`` (one certifying pass), and when neither Clarabel nor SCS is installed. A regularisation
    path uses the same rule; there the first-order solver is also warm-started from the previous
    ``alpha``.
    """
    if solver != "auto":
        return solver
    if searched:
        return "first_order"
    small = cone_rows(n_samples, n_patterns, n_outputs) <= _AUTO_CVXPY_ROWS
    if not (small and loss.is_quadratic):
        return "first_order"
    from .solvers.cvxpy_solver import available_conic_solvers

    return "cvxpy" if available_conic_solvers() else "first_order"  # neither Clarabel nor SCS: ours


def _available_memory():
    """Available memory in bytes (``MemAvailable`` on Linux, physical memory elsewhere)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _pattern_set_bytes(n_samples, n_dims, n_patterns):
    """Memory to build a set of ``n_patterns`` patterns on ``n_samples`` rows of ``n_dims`` columns."""
    return n_patterns * (n_samples * _BYTES_PER_PATTERN_SAMPLE + 8 * n_dims)


def check_enumeration_size(X, *, hidden_bias):
    """Refuse, with advice and before any work, an exact enumeration that could not finish.

    The bound of SPEC §2 on the number of patterns is computed first (one SVD); enumeration is
    refused when it exceeds ``_MAX_EXACT_PATTERNS`` (enumeration alone would take many minutes, and
    the program over them longer) or when the pattern set would not fit in half the free memory.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The rows whose patterns would be enumerated.
    hidden_bias : bool
        Whether ``X̃ = [X, 1]``.

    Returns
    -------
    bound : int
        The bound on the number of patterns.
    """
    bound = arrangement_count_bound(X, hidden_bias=hidden_bias)
    n, d = X.shape[0], X.shape[1] + bool(hidden_bias)
    needed = _pattern_set_bytes(n, d, bound)
    available = _available_memory()
    if bound > _MAX_EXACT_PATTERNS or needed > available / 2:
        raise ValueError(
            f"Exact enumeration of the activation patterns of {n} samples in {d} dimensions may "
            f"produce up to {bound:.3g} patterns (the bound of SPEC §2), "
            f"more than the {_MAX_EXACT_PATTERNS:,} that can be enumerated and solved in reasonable time "
            f"and memory ({needed / 1e9:.3g} GB for the pattern set alone, {available / 1e9:.1f} GB "
            "available). The count grows like n^rank: use arrangements='search' or 'sample' (or "
            "'auto', which enumerates only when the bound is at most max_arrangements), fit on "
            "fewer samples, or reduce the number of features (e.g. PCA)."
        )
    return bound


def check_sampling_size(n_samples, n_dims, n_arrangements):
    """Refuse, with advice and before allocating, sampling more gates than memory holds.

    Sampling ``N`` gates builds the ``n × N`` products ``X̃G`` and their patterns at once.

    Parameters
    ----------
    n_samples, n_dims : int
        Shape of ``X̃``.
    n_arrangements : int
        Number of Gaussian gates to draw.
    """
    needed = _pattern_set_bytes(n_samples, n_dims, n_arrangements)
    available = _available_memory()
    if needed > available / 2:
        raise ValueError(
            f"Sampling n_arrangements={n_arrangements:,} gates on {n_samples} samples needs about "
            f"{needed / 1e9:.3g} GB, more than half of the available memory ({available / 1e9:.1f} GB). "
            "Use a smaller n_arrangements: there are at most as many distinct patterns as the bound "
            "of SPEC §2, and a few hundred gates with arrangements='search' usually suffice."
        )


def check_program_size(n_samples, n_dims, n_patterns, n_outputs):
    """Refuse, with advice, a cvxpy program that would not fit in memory.

    The program has ``2 · n · P · K`` cone rows, each with ``d`` nonzeros, plus the gated prediction.
    """
    nonzeros = 3 * n_samples * n_patterns * n_outputs * n_dims
    needed = nonzeros * _BYTES_PER_PROGRAM_NONZERO
    available = _available_memory()
    if needed > available / 2:
        raise ValueError(
            f"The convex program over {n_patterns} activation patterns and {n_samples} samples has "
            f"{cone_rows(n_samples, n_patterns, n_outputs):,} cone rows and needs about {needed / 1e9:.1f} GB, "
            f"more than half of the available memory ({available / 1e9:.1f} GB). Sample fewer "
            "patterns (arrangements='sample' with a smaller n_arrangements), fit on fewer samples, "
            "or use solver='first_order'."
        )


# --------------------------------------------------------------------------------------------------
# Everything for one fit on one pattern set


@dataclass(frozen=True, eq=False)
class PreparedData:
    """The inputs of the convex program on the rows of positive weight.

    Attributes
    ----------
    X_aug : ndarray of shape (n_kept, n_dims)
        The design ``X̃`` (SPEC §1).
    arrangements : Arrangements
        Patterns built on those rows.
    Y : ndarray of shape (n_kept, n_outputs)
    s : ndarray of shape (n_kept,)
        Weights summing to ``n_kept``.
    """

    X_aug: np.ndarray
    arrangements: Arrangements
    Y: np.ndarray
    s: np.ndarray

    def __iter__(self):
        return iter((self.X_aug, self.arrangements, self.Y, self.s))


def prepare(X, Y, sample_weight, *, arrangements, n_arrangements, max_arrangements, hidden_bias, random_state):
    """Rows of positive weight, their pattern set and their design, for a path or a CV fold.

    ``arrangements="auto"`` enumerates exactly when the bound is at most ``max_arrangements`` and
    samples ``n_arrangements`` gates otherwise (one pattern set serves every ``alpha``).

    Returns
    -------
    PreparedData
        Unpacks as ``X_aug, arrangements, Y, s``.
    """
    X_fit, Y_fit, s = positive_rows(X, Y, sample_weight)
    mode = arrangement_mode(arrangements, X_fit, hidden_bias=hidden_bias, max_arrangements=max_arrangements, beyond="sample")
    built = build_arrangements(X_fit, mode, hidden_bias=hidden_bias, n_arrangements=n_arrangements, random_state=random_state)
    return PreparedData(augment(X_fit, built.hidden_bias), built, Y_fit, s)
