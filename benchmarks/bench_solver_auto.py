"""Where ``solver="auto"`` should switch from cvxpy (Clarabel) to the first-order solver (issue 12, item 4).

On the *same* patterns, :func:`~sklearn_convexrelu.solvers.solve_convex_program` (solve, polish,
certify: what a fit pays) with ``solver="cvxpy"`` and ``solver="first_order"``, across the number of
samples n, the number of patterns P (exact enumeration on 1 and 2 features; Gaussian gates on 10) and the
loss (squared error on a planted teacher with a hidden bias; log loss on its sign). CPU time with one
BLAS thread (``time.process_time`` under ``threadpool_limits(1)``), the two solvers alternating
within every case; the relative certified gap of each, and the difference of their objectives.
Every case runs in its own process with a time limit (``--timeout``), so an overlong Clarabel run
is recorded as such and the run goes on.

Second part (``--path``): a 10-alpha path (``convex_relu_path``, from ``alpha_max`` down to
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
    *[("squared_error", "exact", 1, n, None) for n in (50, 200, 800)],
    *[("squared_error", "exact", 2, n, None) for n in (20, 50)],
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


def run_case(loss, kind, n_features, n, n_arrangements, path):
    """One case in this process: ``{solver: (cpu seconds, relative gap, objective, n_patterns)}``."""
    from threadpoolctl import threadpool_limits

    from sklearn_convexrelu import convex_relu_path, enumerate_arrangements, sample_arrangements
    from sklearn_convexrelu.arrangements import _augment
    from sklearn_convexrelu.program.losses import get_loss
    from sklearn_convexrelu.solvers import solve_convex_program

    X, y = data(loss, n_features, n)
    arrangements = (enumerate_arrangements(X) if kind == "exact"
                    else sample_arrangements(X, n_arrangements, random_state=0))
    X_aug, Y, s = _augment(X, True), y[:, None], np.ones(n)
    out = {}
    order = ("cvxpy", "first_order") if n % 2 == 0 else ("first_order", "cvxpy")
    with threadpool_limits(1):
        for solver in order:
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
            out[solver] = (seconds, float(gap), float(objective), int(arrangements.n_patterns))
    return out


def in_subprocess(case, path, timeout):
    command = [sys.executable, __file__, "--case", json.dumps([*case, path])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        print(done.stderr[-2000:], flush=True)
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(cases, path, timeout):
    header = ("| loss | patterns | p | n | P | cone rows 2nP | cvxpy CPU (s) | first-order CPU (s) | "
              "first-order / cvxpy | gap cvxpy | gap first-order | Δ objective (rel.) |")
    lines = [header, "|" + "---|" * 12]
    for case in cases:
        loss, kind, p, n, n_arr = case
        result = in_subprocess(case, path, timeout)
        label = f"| {loss} | {kind if kind == 'exact' else f'{n_arr} gates'} | {p} | {n} |"
        if result is None:
            lines.append(f"{label} | | | > {timeout} s (timed out) | | | | | |")
        elif "error" in result:
            lines.append(f"{label} | | | error: {result['error'][:80]} | | | | | |")
        else:
            (tc, gc, oc, P), (tf, gf, of, _) = result["cvxpy"], result["first_order"]
            lines.append(f"{label} {P} | {2 * n * P:,} | {tc:.2f} | {tf:.2f} | {tf / tc:.2f} | {gc:.1e} | {gf:.1e} | "
                         f"{(of - oc) / abs(oc):+.1e} |")
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
        *case, path = json.loads(args.case)
        print(json.dumps(run_case(*case, path)))
        return
    cases = QUICK if args.quick else CASES
    lines = ["# solver=\"auto\": cvxpy (Clarabel) against the first-order solver", "", f"Machine: {machine()}.", "",
             f"One fit = `solve_convex_program` (solve, polish, certify) at alpha = {ALPHA:g}, tol = {TOL:g}, on "
             "the same patterns; planted teacher with a hidden bias (`_common.planted_teacher`, seed = p), target "
             "standardised (log loss: its sign about the median). CPU time (`time.process_time`, one BLAS "
             "thread), the two solvers alternating in one process per case; Δ objective = (first-order − "
             "cvxpy) / |cvxpy|.", "", "## One fit", ""]
    lines += table(cases, False, args.timeout)
    if not args.no_path:
        path_cases = [c for c in cases if c[3] <= 1000 and (c[4] or 0) <= 100 and c[2] == 10 or c[2] == 1 and c[3] <= 200]
        lines += ["", "## A 10-alpha path (`convex_relu_path`, alpha_max down to 1e-3 · alpha_max)", "",
                  "Gap = the worst relative gap on the path; objective at the smallest alpha.", ""]
        lines += table(path_cases, True, args.timeout)
    write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
