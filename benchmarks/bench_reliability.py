"""Reliability (issue 14): the bad-input table and fault injections, rerun, with outcome counts.

Not run in CI. Every case runs with a wall-clock limit (``signal.alarm``) and is classified as

- ``certified``: fitted, finite predictions, certificate ``certified``;
- ``fitted``: fitted with finite predictions, not certified: a ``ConvergenceWarning`` said so, or
  the fit is optimal over its patterns only (they were not all enumerated) and says that;
- ``clear error``: a ``ValueError`` / ``InvalidParameterError`` / documented ``RuntimeError`` whose
  message names the problem (the expected outcome for bad input);
- ``state kept``: a fault injected into a refit raised and the estimator kept its previous fit;
- ``crash``: any other exception (a bug), ``wrong``: an answer that violates an identity,
  ``hang``: over the time limit.

The issue's random sweep is rerun as well: default ``ConvexReLUClassifier`` fits on random small
data with one column scaled ×100 (the issue saw 1 crash in 80). Results:
``benchmarks/results/reliability.md``.

Usage: ``python benchmarks/bench_reliability.py [--quick]``.
"""

import signal
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_results  # noqa: E402

import sklearn_convexrelu._base as base  # noqa: E402
import sklearn_convexrelu.solvers.cvxpy_solver as cvxpy_solver  # noqa: E402
from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, convex_relu_path  # noqa: E402
from sklearn_convexrelu.exceptions import ConvexReLUWarning  # noqa: E402
from sklearn_convexrelu.landscape import no_spurious_valleys_width, optimality_certificate, train_nonconvex  # noqa: E402

LIMIT = 120  # seconds per case


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _outcome(run):
    """Run ``run()`` (returns a fitted estimator, an outcome string or a path) and classify it."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run()
        signal.alarm(0)
        warned = [w for w in caught if issubclass(w.category, (ConvergenceWarning, ConvexReLUWarning))]
        if isinstance(result, str):
            outcome, detail = result, ""
        elif hasattr(result, "certificate_"):
            certificate = result.certificate_
            outcome = "certified" if certificate.certified else "fitted"
            warned.sort(key=lambda w: not issubclass(w.category, ConvergenceWarning))  # the solver's first
            if certificate.certified:
                detail = ""
            elif warned:
                detail = str(warned[0].message)[:90]
            elif certificate.relative_gap <= certificate.tol:
                detail = "optimal over its patterns only (not all were enumerated), no warning needed"
            else:
                detail = "not certified, no warning"
        else:
            outcome, detail = "fitted", ""
    except _Timeout:
        outcome, detail = "hang", f"> {LIMIT} s"
    except (ValueError, RuntimeError) as exc:  # InvalidParameterError is a ValueError
        signal.alarm(0)
        message = str(exc)
        # a clear error names the problem and what to do; a RuntimeError without advice is a crash
        advice = any(word in message for word in ("Use ", "use ", "standardise", "Standardise", "Rescale", "must be"))
        outcome = "clear error" if isinstance(exc, ValueError) or advice else "crash"
        detail = f"{type(exc).__name__}: {message[:110]}"
    except BaseException as exc:  # noqa: BLE001 - what the benchmark counts
        signal.alarm(0)
        outcome, detail = "crash", f"{type(exc).__name__}: {str(exc)[:110]}"
    return outcome, detail, time.perf_counter() - start


def _smooth(n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, np.sin(X[:, 0]) + X[:, 1]


def _column(X, scale):
    """``X`` with its second column multiplied by ``scale`` (issue 14, item 2)."""
    return X * np.r_[1.0, scale]


def _check_finite(est, X):
    if not np.all(np.isfinite(est.network_.output(X))):
        return "wrong"
    return est


def _refit_fault(failure):
    """Fit on {0, 1}, inject ``failure`` into the refit on {5, 9} and 3 features."""

    def run():
        rng = np.random.default_rng(0)
        X = rng.standard_normal((12, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
        clf = ConvexReLUClassifier(alpha=1e-2, random_state=0).fit(X, y)
        before = clf.predict(X)
        original = base.solve_convex_program

        def explode(*args, **kwargs):
            raise failure

        base.solve_convex_program = explode
        try:
            clf.fit(np.column_stack([X, X[:, :1]]), np.where(y == 1, 9, 5))
        except BaseException:  # noqa: BLE001
            pass
        finally:
            base.solve_convex_program = original
        ok = list(clf.classes_) == [0, 1] and clf.n_features_in_ == 2 and np.array_equal(clf.predict(X), before)
        return "state kept" if ok else "wrong"

    return run


def _without_conic_solvers(solver):
    def run():
        chain = cvxpy_solver._SOLVER_CHAIN
        cvxpy_solver._SOLVER_CHAIN = ("NOT_A_SOLVER",)
        try:
            X, y = _smooth()
            return ConvexReLURegressor(alpha=1e-2, arrangements="exact", solver=solver).fit(X, y)
        finally:
            cvxpy_solver._SOLVER_CHAIN = chain

    return run


def _cvxpy_failing(solver):
    def run():
        import cvxpy as cp

        solve = cp.Problem.solve

        def fail(self, *args, **kwargs):  # every conic solver fails, as cvxpy reports it
            raise cp.error.SolverError("injected numerical failure")

        cp.Problem.solve = fail
        try:
            X, y = _smooth()
            return ConvexReLURegressor(alpha=1e-2, arrangements="exact", solver=solver).fit(X, y)
        finally:
            cp.Problem.solve = solve

    return run


def _path_monotone():
    X = np.array([[0.07, 0.88, -49.1], [1.05, 0.06, -51.2], [-1.15, 1.47, 142.2]])
    path = convex_relu_path(X, [1, 0, 1], loss="log_loss", alphas=10)
    ok = np.all(np.diff(path.objectives) <= 1e-12 * path.objectives[:-1]) and np.all(path.n_neurons[1:] > 0)
    return "certified" if ok and all(c.certified for c in path.certificates) else "wrong"


def _log_proba_far():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    clf = ConvexReLUClassifier(alpha=1e-4, random_state=0).fit(X, [0, 0, 1, 1])
    return "fitted" if np.all(np.isfinite(clf.predict_log_proba(np.array([[-1e4], [1e4]])))) else "wrong"


def cases():
    X, y = _smooth()
    Xl = np.random.default_rng(0).standard_normal((200, 10))
    yl = Xl[:, 0]
    X_unscaled = np.array([[0.07, 0.88, -49.1], [1.05, 0.06, -51.2], [-1.15, 1.47, 142.2]])
    X_col8 = X.copy()
    X_col8[:, 1] *= 1e8
    X_sep = np.random.default_rng(0).standard_normal((30, 3))
    y_sep = (X_sep[:, 0] + X_sep[:, 1] > 0).astype(int)
    X_big = np.random.default_rng(0).standard_normal((2000, 10))
    y_nan = y.copy()
    y_nan[3] = np.nan
    net = ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, y).network_
    net_l = ConvexReLURegressor(alpha=1e-2, arrangements="sample", n_arrangements=5, random_state=0).fit(Xl, yl).network_
    return [
        ("1", "default classifier, tiny unscaled data", lambda: ConvexReLUClassifier().fit(X_unscaled, [1, 0, 1])),
        ("1", "log_loss path on the same data (monotone, certified)", _path_monotone),
        *[
            ("2", f"one column × {scale:.0e}, solver='first_order'{', max_iter=20' if max_iter else ''}",
             lambda scale=scale, max_iter=max_iter: _check_finite(
                 ConvexReLURegressor(solver="first_order", max_iter=max_iter or 1000, random_state=0).fit(_column(X, scale), y),
                 _column(X, scale)))
            for scale, max_iter in ((1e4, None), (1e5, None), (1e6, None), (1e8, None), (1e8, 20))
        ],
        ("3", "refit on new classes, solver raises", _refit_fault(RuntimeError("injected"))),
        ("3", "refit on new classes, KeyboardInterrupt", _refit_fault(KeyboardInterrupt())),
        ("4", "exact, n=200, 10 features, solver='auto'", lambda: ConvexReLURegressor(arrangements="exact").fit(Xl, yl)),
        ("4", "exact, n=200, 10 features, solver='first_order'", lambda: ConvexReLURegressor(arrangements="exact", solver="first_order").fit(Xl, yl)),
        ("4", "exact, n=200, 10 features, landscape certificate", lambda: optimality_certificate(net_l, Xl, yl, 1e-2, arrangements="exact") and "fitted"),
        ("4", "n_arrangements=1e8 (sample)", lambda: ConvexReLURegressor(arrangements="sample", n_arrangements=10**8).fit(X, y)),
        ("4", "n_arrangements=1e10 (search)", lambda: ConvexReLURegressor(n_arrangements=10**10).fit(Xl, yl)),
        ("5", "alpha=1e12, solver='cvxpy'", lambda: ConvexReLURegressor(alpha=1e12, solver="cvxpy").fit(X, y)),
        ("5", "y × 1e150, solver='cvxpy'", lambda: ConvexReLURegressor(solver="cvxpy").fit(X, y * 1e150)),
        ("5", "one column × 1e8, solver='cvxpy'", lambda: _check_finite(ConvexReLURegressor(solver="cvxpy", random_state=0).fit(X_col8, y), X_col8)),
        ("5", "no Clarabel nor SCS, solver='auto'", _without_conic_solvers("auto")),
        ("5", "no Clarabel nor SCS, solver='cvxpy'", _without_conic_solvers("cvxpy")),
        ("5", "cvxpy fails (injected), solver='auto'", _cvxpy_failing("auto")),
        ("5", "cvxpy fails (injected), solver='cvxpy'", _cvxpy_failing("cvxpy")),
        ("6", "X × 1e-300 (no usable pattern), solver='cvxpy'", lambda: ConvexReLURegressor(solver="cvxpy").fit(X * 1e-300, y)),
        ("6", "X = 0, solver='cvxpy'", lambda: ConvexReLURegressor(solver="cvxpy").fit(np.zeros_like(X), y)),
        ("Low", "landscape certificate, NaN in y", lambda: optimality_certificate(net, X, y_nan, 1e-2)),
        ("Low", "landscape certificate, alpha=inf", lambda: optimality_certificate(net, X, y, np.inf)),
        ("Low", "no_spurious_valleys_width, alpha=0", lambda: no_spurious_valleys_width(X, y, 0.0)),
        ("Low", "train_nonconvex, alpha=0", lambda: train_nonconvex(X, y, 0.0, 3)),
        ("Low", "convex_relu_path, solver='bogus'", lambda: convex_relu_path(X, y, solver="bogus")),
        ("Low", "convex_relu_path, arrangements='bogus'", lambda: convex_relu_path(X, y, arrangements="bogus")),
        ("Low", "convex_relu_path, tol=-1", lambda: convex_relu_path(X, y, tol=-1)),
        ("Low", "convex_relu_path, eps=2", lambda: convex_relu_path(X, y, eps=2)),
        ("Low", "estimator, tol=1", lambda: ConvexReLURegressor(tol=1.0).fit(X, y)),
        ("Low", "predict_log_proba far from the data", _log_proba_far),
        ("Low", "classifier, X × 1e6 (saturated logistic loss)", lambda: _check_finite(ConvexReLUClassifier(random_state=0).fit(X_sep * 1e6, y_sep), X_sep * 1e6)),
        ("Low", "classifier, X × 1e20, hidden_bias=False (alpha negligible)", lambda: ConvexReLUClassifier(hidden_bias=False, random_state=0).fit(X_sep * 1e20, y_sep)),
        ("Low", "regressor, y × 1e20, n=2000 (alpha negligible)", lambda: ConvexReLURegressor(random_state=0).fit(X_big, X_big[:, 0] * 1e20)),
    ]


def sweep(n_fits):
    """The issue's sweep: default classifier fits, random small data, one column ×100."""
    counts, details = Counter(), []
    for seed in range(n_fits):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(3, 13))
        X = rng.standard_normal((n, 3))
        X[:, 2] *= 100
        y = rng.integers(0, 2, n)
        if np.unique(y).size < 2:
            y[0] = 1 - y[1]
        outcome, detail, _ = _outcome(lambda: _check_finite(ConvexReLUClassifier(random_state=seed).fit(X, y), X))
        counts[outcome] += 1
        if outcome not in ("certified",):
            details.append(f"seed {seed} (n={n}): {outcome} {detail}")
    return counts, details


def main():
    quick = "--quick" in sys.argv
    lines = [
        "# Reliability: bad inputs and fault injections (issue 14)",
        "",
        f"Machine: {machine()}.",
        "",
        f"`python benchmarks/bench_reliability.py`; every case has a {LIMIT} s limit. Outcomes: "
        "certified / fitted (finite predictions, not certified: with a ConvergenceWarning, or optimal over "
        "its patterns only) / clear error "
        "(ValueError or documented RuntimeError naming the problem) / state kept (fault injected into a "
        "refit, previous fit intact) / crash / wrong / hang.",
        "",
        "| item | case | outcome | time (s) | detail |",
        "|---|---|---|---:|---|",
    ]
    totals = Counter()
    for item, name, run in cases():
        outcome, detail, seconds = _outcome(run)
        totals[outcome] += 1
        print(f"{item:>4} {name}: {outcome} ({seconds:.1f} s) {detail}", flush=True)
        lines.append(f"| {item} | {name} | {outcome} | {seconds:.1f} | {detail.replace('|', '/')} |")
    lines += ["", "Counts over the table: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) + "."]
    n_fits = 10 if quick else 80
    counts, details = sweep(n_fits)
    print("sweep", dict(counts), flush=True)
    lines += [
        "",
        f"## Sweep: {n_fits} default `ConvexReLUClassifier` fits, random data (n = 3..12, 3 features, the last ×100)",
        "",
        "| outcome | count |",
        "|---|---:|",
        *[f"| {k} | {v} |" for k, v in sorted(counts.items())],
    ]
    if details:
        lines += ["", "Not certified:", "", *[f"- {d}" for d in details]]
    write_results(str(Path(__file__).parent / "results" / "reliability.md"), lines)


if __name__ == "__main__":
    main()
