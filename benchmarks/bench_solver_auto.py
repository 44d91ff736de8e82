"""Where ``solver="auto"`` should switch from cvxpy (Clarabel) to the first-order solver (issue 12, item 4).

On the *same* patterns, :func:`~sklearn_convexrelu.solvers.solve_convex_program` (solve, polish,
certify: what a fit pays) with ``solver="cvxpy"`` and ``solver="first_order"``, across the number of
samples n, the number of patterns P (exact enumeration on 1 and 2 features; Gaussian gates on 10)
and the loss (squared error on a planted teacher with a hidden bias; log loss on its sign). CPU time
with one BLAS thread (``time.process_time`` under ``threadpool_limits(1)``), each solver in its own
fresh process (after a small untimed warm-up solve, so that numba's compilation is not counted) with
a time limit (``--timeout``), their order alternating from case to case; a solver that timed out is
not run on the larger cases of the same family. Reported: the relative certified gap of each, and
the difference of their objectives.

Second part (unless ``--no-path``): a 10-alpha path (``convex_relu_path``, from ``alpha_max`` down to
``1e-3 · alpha_max``) with each solver: cvxpy compiles once and re-solves, the first-order solver
warm-starts every point from the previous one.

Run: ``python benchmarks/bench_solver_auto.py [--quick] [--timeout 120]``; writes
``benchmarks/results/solver_auto.md``.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, planted_teacher, write_results  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "solver_auto.md")
ALPHA, TOL = 1e-3, 1e-6

# (loss, patterns, n_features, n, n_arrangements); "exact" enumerates on 1 feature (P ≈ 2n) and on 2
# features (P ≈ n²)
CASES = [
    *[("squared_error", "exact", 1, n, None) for n in (14, 25, 50, 200, 800)],
    *[("squared_error", "exact", 2, n, None) for n in (10, 20, 50)],
    *[("squared_error", "sample", 10, n, P) for n in (30, 50) for P in (20, 50)],
    *[("squared_error", "sample", 10, n, P) for n in (100, 300, 1000, 3000) for P in (20, 100, 400)],
    *[("log_loss", "exact", 1, n, None) for n in (50, 200)],
    *[("log_loss", "sample", 10, n, P) for n in (100, 300, 1000) for P in (20, 100)],
]
QUICK = [c for c in CASES if c[3] <= 300 and (c[4] or 0) <= 100]


def data(loss, n_features, n):
    X, y = planted_teacher(n, n_features, hidden_bias=True, seed=n_features)
    y = (y - y.mean()) / y.std()
    if loss == "log_loss":
        y = np.where(y > np.median(y), 1.0, -1.0)
    return X, y


def run_case(loss, kind, n_features, n, n_arrangements, path, solver):
    """One solver on one case in this process: ``(cpu seconds, relative gap, objective, n_patterns)``."""
    from threadpoolctl import threadpool_limits

    from sklearn_convexrelu import convex_relu_path, enumerate_arrangements, sample_arrangements
    from sklearn_convexrelu.arrangements import _augment
    from sklearn_convexrelu.program.losses import get_loss
    from sklearn_convexrelu.solvers import solve_convex_program

    Xw, yw = data(loss, 2, 30)  # untimed warm-up: numba compiles the cone kernels once per process
    solve_convex_program(_augment(Xw, True), sample_arrangements(Xw, 10, random_state=0), yw[:, None], np.ones(30),
                         get_loss(loss, 1), 0.1, fit_intercept=True, hidden_bias=True, tol=TOL, max_iter=1000,
                         solver=solver)
    X, y = data(loss, n_features, n)
    arrangements = (enumerate_arrangements(X) if kind == "exact"
                    else sample_arrangements(X, n_arrangements, random_state=0))
    X_aug, Y, s = _augment(X, True), y[:, None], np.ones(n)
    with threadpool_limits(1):
        start = time.process_time()
        if path:
            res = convex_relu_path(X, y, alphas=10, eps=1e-3, loss=loss, arrangements=arrangements,
                                   solver=solver, tol=TOL)
            seconds = time.process_time() - start
            gap = max(c.relative_gap for c in res.certificates)
            objective = float(res.objectives[-1])
        else:
            fit = solve_convex_program(X_aug, arrangements, Y, s, get_loss(loss, 1), ALPHA, fit_intercept=True,
                                       hidden_bias=True, tol=TOL, max_iter=10_000, solver=solver)
            seconds = time.process_time() - start
            gap, objective = fit.certificate.relative_gap, fit.objective
    return seconds, float(gap), float(objective), int(arrangements.n_patterns)


def in_subprocess(case, path, solver, timeout):
    """``run_case`` in a fresh process: its result, ``None`` on time-out, or ``{"error": ...}``."""
    command = [sys.executable, __file__, "--case", json.dumps([*case, path, solver])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        print(done.stderr[-2000:], flush=True)
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(cases, path, timeout):
    """One row per case; a solver that timed out on a smaller case of the same family is not run."""
    header = ("| loss | patterns | p | n | P | cone rows 2nP | cvxpy CPU (s) | first-order CPU (s) | "
              "first-order / cvxpy | gap cvxpy | gap first-order | Δ objective (rel.) |")
    lines, timed_out = [header, "|" + "---|" * 12], set()
    for index, case in enumerate(cases):
        loss, kind, p, n, n_arr = case
        results = {}
        for solver in (("cvxpy", "first_order") if index % 2 == 0 else ("first_order", "cvxpy")):
            family = (solver, loss, kind, p, n_arr)
            if family in timed_out:
                results[solver] = "skipped"
                continue
            results[solver] = in_subprocess(case, path, solver, timeout)
            if results[solver] is None:
                timed_out.add(family)

        def cell(result, k, fmt):
            if result is None:
                return f"> {timeout:.0f} s" if k == 0 else ""
            if result == "skipped":
                return "not run" if k == 0 else ""
            if "error" in result:
                return f"error: {result['error'][:60]}" if k == 0 else ""
            return format(result[k], fmt)

        c, f = results["cvxpy"], results["first_order"]
        ok = [r for r in (c, f) if isinstance(r, list)]
        P = ok[0][3] if ok else ""
        rows = f"{2 * n * P:,}" if ok else ""
        both = isinstance(c, list) and isinstance(f, list)
        ratio = f"{f[0] / c[0]:.2f}" if both else ""
        delta = f"{(f[2] - c[2]) / abs(c[2]):+.1e}" if both else ""
        label = kind if kind == "exact" else f"{n_arr} gates"
        lines.append(f"| {loss} | {label} | {p} | {n} | {P} | {rows} | {cell(c, 0, '.2f')} | {cell(f, 0, '.2f')} | "
                     f"{ratio} | {cell(c, 1, '.1e')} | {cell(f, 1, '.1e')} | {delta} |")
        print(lines[-1], flush=True)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n ≤ 300 and P ≤ 100 only")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per case (both solvers)")
    parser.add_argument("--no-path", action="store_true", help="skip the 10-alpha path comparison")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*json.loads(args.case))))
        return
    cases = QUICK if args.quick else CASES
    lines = ["# solver=\"auto\": cvxpy (Clarabel) against the first-order solver", "", f"Machine: {machine()}.", "",
             f"One fit = `solve_convex_program` (solve, polish, certify) at alpha = {ALPHA:g}, tol = {TOL:g}, on "
             "the same patterns; planted teacher with a hidden bias (`_common.planted_teacher`, seed = p), target "
             "standardised (log loss: its sign about the median). CPU time (`time.process_time`, one BLAS "
             "thread), each solver in its own process (after an untimed warm-up solve) with a time limit (`> t s`: timed out; `not run`: it "
             "timed out on a smaller case of the family); Δ objective = (first-order − cvxpy) / |cvxpy|.", "", "## One fit", ""]
    lines += table(cases, False, args.timeout)
    if not args.no_path:
        path_cases = [c for c in cases if c[3] <= 1000 and (c[4] or 0) <= 100 and c[2] == 10 or c[2] == 1 and c[3] <= 200]
        lines += ["", "## A 10-alpha path (`convex_relu_path`, alpha_max down to 1e-3 · alpha_max)", "",
                  "Gap = the worst relative gap on the path; objective at the smallest alpha.", ""]
        lines += table(path_cases, True, args.timeout)
    write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
