"""Solvers of (C-ReLU) side by side on the same patterns (issue 5; SPEC §4, §7).

cvxpy with Clarabel and with SCS, the package's first-order solver and, when the optional ``scnn``
environment exists (see ``benchmarks/README.md``), scnn's augmented Lagrangian — all on the same
data and the same sampled patterns. scnn runs twice: with its default stopping options and with tight
ones (``SCNN_OPTIONS``; its tolerances are in its own units, see ``_scnn_runner.py``). For every run:
wall time of the solve (cvxpy: compile + solve; first order: until its own certified gap reaches
``tol``; scnn: its ``optimize_model`` call), objective after polishing (blocks
projected onto their cones, intercept re-optimised), the certified relative duality gap of SPEC §4
(:func:`~sklearn_convexrelu.program.certificate.duality_certificate`), the largest relative cone
violation of the solver's raw blocks, ``max_{i,j} (−(2D_i − I) X̃ w_i)_j / (‖x̃_j‖ max_i ‖w_i‖)``, and
the number of neurons (nonzero blocks). The first-order time is also given in units of one forward
product ``X̃ @ V`` (V of shape (d, P)), and so is one dual-feasibility check at its solution from
scratch (cone projections without cached faces).

Cases: ``small`` (n=200, 10 features, P=200), ``medium`` (n=1000, 10 features, P=200),
``logloss`` (logistic loss at small alpha, Clarabel's weak spot), ``scale`` (n=50,000,
50 features, P=500, first order only, tol 1e-4, with the peak memory of its process) and
``interpolating`` (n=2000, 50 features, P=500, first order only, tol 1e-4: the optimum has more
atoms than samples), ``n500`` (n=500, 20 features, P=100, Clarabel and first order) and ``n2000``
(n=2000, 20 features, P=300, first order), the sizes of issue 12's solver targets, and ``few``
(n=1000, 10 features, P=20: few patterns for many samples). Every case
runs in a fresh process; numba's one-off compile is paid by an untimed solve before the timed
one. Data: a planted teacher (``_common.planted_teacher``), no hidden bias in the teacher, hidden
bias in the model.

Run: ``python benchmarks/bench_solvers.py [--cases small ...] [--solvers first_order ...]
[--output PATH]``; writes ``benchmarks/results/solvers.md`` (or PATH). Not run in CI.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, planted_teacher, write_results  # noqa: E402

from sklearn_convexrelu.arrangements import _augment, sample_arrangements  # noqa: E402
from sklearn_convexrelu.program.certificate import duality_certificate  # noqa: E402
from sklearn_convexrelu.program.cones import cone_kappas  # noqa: E402
from sklearn_convexrelu.program.losses import get_loss  # noqa: E402
from sklearn_convexrelu.solvers import CvxpyProgram, FirstOrderSolver  # noqa: E402
from sklearn_convexrelu.solvers.polish import convex_objective, polish  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "solvers.md")
SCNN_PYTHON = os.environ.get("SCNN_PYTHON", "/tmp/venv-bench/bin/python")
CASES = {
    # no output intercept here: scnn has none
    "small": dict(n=200, p=10, P=200, loss="squared_error", alpha=1e-3, tol=1e-6, fit_intercept=False,
                  solvers=("CLARABEL", "SCS", "first_order", "scnn", "scnn_tight")),
    "medium": dict(n=1000, p=10, P=200, loss="squared_error", alpha=1e-3, tol=1e-6, fit_intercept=True,
                   solvers=("CLARABEL", "first_order")),
    "logloss": dict(n=200, p=10, P=100, loss="log_loss", alpha=1e-4, tol=1e-6, fit_intercept=True,
                    solvers=("CLARABEL", "first_order")),
    "scale": dict(n=50_000, p=50, P=500, loss="squared_error", alpha=1e-3, tol=1e-4, fit_intercept=True,
                  solvers=("first_order",)),
    # nearly interpolating: the optimum has more atoms than samples (rank-deficient restricted problems)
    "interpolating": dict(n=2000, p=50, P=500, loss="squared_error", alpha=1e-3, tol=1e-4, fit_intercept=True,
                          solvers=("first_order",)),
    # the sizes of issue 12's solver targets (gap 1e-6): against Clarabel at n = 500, P = 100, and in
    # forward products at n = 2000, P = 300
    "n500": dict(n=500, p=20, P=100, loss="squared_error", alpha=1e-3, tol=1e-6, fit_intercept=True,
                 solvers=("CLARABEL", "first_order")),
    "n2000": dict(n=2000, p=20, P=300, loss="squared_error", alpha=1e-3, tol=1e-6, fit_intercept=True,
                  solvers=("first_order",)),
    # few patterns for many samples: the first-order solver stalled there before 7777382
    "few": dict(n=1000, p=10, P=20, loss="squared_error", alpha=1e-3, tol=1e-6, fit_intercept=True,
                solvers=("CLARABEL", "first_order")),
}
# scnn's AL stops on its own criteria, not on a relative gap (see ``_scnn_runner.py``): squared norm of the
# minimum-norm subgradient <= tol and squared norm of the cone violations <= constraint_tol;
# max_primal_iters caps the total number of inner FISTA steps. "scnn" is scnn's defaults; "scnn_tight"
# is tight enough for an objective within ~1e-4 of the optimum on the small case.
SCNN_OPTIONS = {
    "scnn": dict(tol=1e-6, constraint_tol=1e-6, max_primal_iters=10_000),
    "scnn_tight": dict(tol=1e-10, constraint_tol=1e-10, max_primal_iters=100_000),
}


def data(case):
    X, y = planted_teacher(case["n"], case["p"], seed=case["p"])
    if case["loss"] == "log_loss":
        y = np.where(y > np.median(y), 1.0, -1.0)
    arrangements = sample_arrangements(X, case["P"], hidden_bias=True, random_state=0)
    return _augment(X, True), y[:, None], np.ones(case["n"]), get_loss(case["loss"], 1), arrangements


def cone_violation(X_aug, patterns, blocks_pos, blocks_neg):
    """Largest cone violation of the raw blocks relative to the largest block,
    ``max_{i,j} (−(2D_i − I) X̃ w_i)_j / (‖x̃_j‖ max_i ‖w_i‖)``."""
    signs = np.where(patterns, 1.0, -1.0)
    row_norms = np.linalg.norm(X_aug, axis=1)[:, None]
    scale = max(np.linalg.norm(blocks_pos[0], axis=0).max(), np.linalg.norm(blocks_neg[0], axis=0).max())
    if scale == 0:
        return 0.0
    slack = [signs * (X_aug @ blocks) / (row_norms * scale) for blocks in (blocks_pos[0], blocks_neg[0])]
    return max(0.0, float(max(np.max(-part, initial=0.0) for part in slack)))


def evaluate(X_aug, Y, s, loss, alpha, arrangements, blocks_pos, blocks_neg, intercept, tol, fit_intercept,
             certify=True):
    """Objective after polishing, certified relative gap (official certificate), neurons."""
    patterns = arrangements.patterns
    V, U, c = polish(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, fit_intercept=fit_intercept)
    objective, prediction = convex_objective(X_aug, patterns, V, U, c, Y, s, loss, alpha)
    neurons = int(np.count_nonzero(np.linalg.norm(V, axis=1)) + np.count_nonzero(np.linalg.norm(U, axis=1)))
    if not certify:
        return objective, None, neurons
    _, raw_prediction = convex_objective(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, alpha)
    certificate = duality_certificate(X_aug, patterns, Y, s, alpha, loss, prediction, objective,
                                      fit_intercept=fit_intercept, exact=False, tol=tol,
                                      dual_predictions=(raw_prediction,))
    return objective, certificate.relative_gap, neurons


def forward_time(X_aug, P, repeats=51):
    """Median wall time of one product ``X̃ @ V`` with V of shape (d, P) (the median resists the
    spikes of a shared machine)."""
    V = np.random.default_rng(0).standard_normal((X_aug.shape[1], P))
    X_aug @ V
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X_aug @ V
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_cvxpy(name, X_aug, Y, s, loss, alpha, arrangements, tol, fit_intercept):
    start = time.perf_counter()
    program = CvxpyProgram(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = program.solve(alpha, tol=tol, max_iter=1000, solver=name)
    return time.perf_counter() - start, raw.blocks_pos, raw.blocks_neg, raw.intercept, raw.status


def run_first_order(X_aug, Y, s, loss, alpha, arrangements, tol, fit_intercept):
    """The solve, and the time of one dual-feasibility check (κ of every block, SPEC §4) at its
    solution from scratch, i.e. without the faces the solver has cached."""
    warm_up = FirstOrderSolver(X_aug[:20], arrangements.patterns[:20], Y[:20], s[:20], loss, fit_intercept=fit_intercept)
    warm_up.solve(alpha, tol=tol)  # numba's one-off compile (or cache load), not part of the solve's time
    start = time.perf_counter()
    solver = FirstOrderSolver(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept,
                              generators=arrangements.generators)
    raw = solver.solve(alpha, tol=tol, max_iter=1000)
    seconds = time.perf_counter() - start
    R = solver.residual()
    start = time.perf_counter()
    cone_kappas(X_aug, arrangements.patterns, R, threshold=alpha, bound_only=True)
    check = time.perf_counter() - start
    return seconds, raw.blocks_pos, raw.blocks_neg, raw.intercept, f"{raw.status}, {raw.n_iter} iterations", check


def run_scnn(X_aug, Y, alpha, arrangements, options):
    """scnn's augmented Lagrangian in its own environment (``benchmarks/_scnn_runner.py``), with scnn's
    own stopping ``options`` (``SCNN_OPTIONS``); the blocks come back in our pattern order."""
    if not os.path.exists(SCNN_PYTHON):
        return None
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "problem.npz"), os.path.join(folder, "solution.npz")
        np.savez(source, X=X_aug, y=Y[:, 0], gates=arrangements.generators, alpha=alpha,
                 scnn_tol=options["tol"], scnn_constraint_tol=options["constraint_tol"],
                 scnn_max_primal_iters=options["max_primal_iters"])
        done = subprocess.run([SCNN_PYTHON, os.path.join(HERE, "_scnn_runner.py"), source, target],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-2000:])
            return None
        out = np.load(target)
        return float(out["seconds"]), out["blocks_pos"], out["blocks_neg"], out["intercept"], str(out["status"])


def run_case(name, case, rows, solvers=None):
    X_aug, Y, s, loss, arrangements = data(case)
    alpha, tol, fit_intercept, P = case["alpha"], case["tol"], case["fit_intercept"], arrangements.n_patterns
    unit = forward_time(X_aug, P)
    header = (f"### {name}: n={case['n']}, {case['p']} features (+ bias), P={P} sampled patterns, loss "
              f"`{case['loss']}`, alpha={alpha:g}, tol={tol:g}, output intercept {fit_intercept}; one forward "
              f"product X̃ @ V: {unit * 1e3:.3f} ms")
    print(header, flush=True)
    rows.append(header)
    rows += ["", "| solver | time (s) | objective | certified rel. gap | max cone violation | neurons | "
                 "time / forward product | status |", "|---|---|---|---|---|---|---|---|"]
    for solver in solvers or case["solvers"]:
        if solver == "first_order":
            result = run_first_order(X_aug, Y, s, loss, alpha, arrangements, tol, fit_intercept)
        elif solver in SCNN_OPTIONS:
            result = run_scnn(X_aug, Y, alpha, arrangements, SCNN_OPTIONS[solver])
            if result is None:
                rows.append(f"| scnn augmented Lagrangian ({solver}) | not installed or failed | | | | | | |")
                continue
        else:
            result = run_cvxpy(solver, X_aug, Y, s, loss, alpha, arrangements, tol, fit_intercept)
        seconds, blocks_pos, blocks_neg, intercept, status = result[:5]
        if solver == "first_order":
            check = result[5]
        certify = name != "scale"  # there, the solver's own certificate (same formula) is reported
        objective, gap, neurons = evaluate(X_aug, Y, s, loss, alpha, arrangements, blocks_pos, blocks_neg, intercept,
                                           tol, fit_intercept, certify=certify)
        violation = cone_violation(X_aug, arrangements.patterns, blocks_pos, blocks_neg)
        label = {"CLARABEL": "cvxpy + Clarabel", "SCS": "cvxpy + SCS", "first_order": "first order (ours)",
                 "scnn": "scnn augmented Lagrangian (its defaults)",
                 "scnn_tight": "scnn augmented Lagrangian (tight)"}[solver]
        gap_text = f"{gap:.1e}" if gap is not None else "see status"
        ratio = f"{seconds / unit:,.0f}" if solver == "first_order" else ""
        rows.append(f"| {label} | {seconds:.2f} | {objective:.10g} | {gap_text} | {violation:.1e} | {neurons} | "
                    f"{ratio} | {status} |")
        print(rows[-1], flush=True)
    if "first_order" in (solvers or case["solvers"]):
        rows += ["", f"One dual-feasibility check at the first-order solution (κ of every block, SPEC §4) from "
                     f"scratch, without the solver's cached cone faces: {check:.3f} s = {check / unit:,.0f} forward "
                     f"products (a solve pays about this at least once: its projections start without faces)."]
        print(rows[-1], flush=True)
    rows.append("")


def run_case_subprocess(name, rows, solvers=None, env=None):
    """One case in a fresh process: the solvers of earlier cases (e.g. SCS's OpenMP threads) cannot
    slow it down, and its own peak memory is reported for the scale case. ``env`` (e.g. a
    ``PYTHONPATH`` naming another checkout of the package) is the child's environment."""
    command = [sys.executable, __file__, "--cases", name, "--child", *(["--solvers", *solvers] if solvers else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    print(done.stdout, done.stderr[-3000:], flush=True)
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    rows += payload["rows"]
    if name == "scale":
        rows.append(f"Peak resident memory of the process (data, patterns, solver): {payload['peak_gb']:.2f} GB.")
        rows.append("")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--solvers", nargs="+", help="run only these solvers of each case (default: all)")
    parser.add_argument("--output", default=RESULTS, help="results file (default: benchmarks/results/solvers.md)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        rows = []
        run_case(args.cases[0], CASES[args.cases[0]], rows, args.solvers)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux
        print(json.dumps({"rows": rows, "peak_gb": peak}))
        return
    rows = ["# Solvers of (C-ReLU) on the same patterns", "", f"Machine: {machine()}.", "",
            "Times are wall-clock seconds of one run on a shared machine. The certified gap is SPEC §4's, "
            "computed after polishing; for the scale case it is the first-order solver's own certificate "
            "(same formula, exact cone projections) given in the status.", ""]
    for name in args.cases:
        run_case_subprocess(name, rows, args.solvers)
    write_results(args.output, rows)


if __name__ == "__main__":
    main()
