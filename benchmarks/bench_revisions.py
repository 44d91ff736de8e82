"""The first-order solver at several git revisions, side by side in one run (issue 5).

For every case of ``bench_solvers.py`` (first-order solver only), every default estimator fit of
``bench_quality.py`` asked for with ``--default-fits`` (problem numbers, from 0), and every revision, a
fresh process runs the case with the package imported from a temporary ``git worktree`` of the
revision (the benchmark code itself is this checkout's). Revisions alternate within each case, so
that the load of a shared machine falls on all of them alike: compare times within one run, not
across runs.

With ``--seeds N`` every default fit runs with ``random_state`` 0, …, N − 1, and a summary compares
the revisions' objectives seed by seed. One seed's objective can be a poor measure of a change's
quality: the pattern search is a sequence of discrete choices (which patterns a gate reaches).
Measured by hand on 2026-12-07 (default fits of this script's problems): on the planted teacher with
10 features, refitting with ``X`` scaled by ``1 + k·1e-15`` (k = 1, …, 4) raised the objective of
``random_state=0`` by 0.03–0.18 %, against a spread of 0.2 % over seeds 0–4; load_diabetes and
load_breast_cancer moved by less than 2e-9 (relative).

Run: ``python benchmarks/bench_revisions.py --revisions 2fd1a41 HEAD [--cases small ...]
[--default-fits 1] [--seeds 5]``; writes ``benchmarks/results/revisions.md``. Not run in CI.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import stats

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, write_results  # noqa: E402
from bench_solvers import CASES, run_case_subprocess  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "revisions.md")


def _git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


def _checkout(root, revision, directory, position):
    """A detached worktree of ``revision`` under ``directory`` (named by its ``position`` in the list, so
    that a revision may be given twice); its environment imports the package from it."""
    sha = _git("-C", root, "rev-parse", "--short", revision)
    path = os.path.join(directory, f"{position}-{sha}")
    _git("-C", root, "worktree", "add", "--detach", path, sha)
    env = dict(os.environ, PYTHONPATH=path)
    where = subprocess.run([sys.executable, "-c", "import sklearn_convexrelu; print(sklearn_convexrelu.__file__)"],
                           env=env, cwd=directory, check=True, capture_output=True, text=True).stdout.strip()
    if not where.startswith(path):
        raise RuntimeError(f"revision {revision}: the package was imported from {where}, not from {path}.")
    return sha, env


def _default_fit(problem, seed):
    """Child: the default estimator fit of ``bench_quality.py``'s problem number ``problem`` with
    ``random_state=seed``, as JSON."""
    from bench_quality import problems, run_convex

    name, data = list(problems().items())[problem]
    (_, neurons, objective, score, _, seconds), model = run_convex(*data, "auto", random_state=seed)
    print(json.dumps({"name": name, "seconds": seconds, "objective": objective, "score": score, "neurons": neurons,
                      "coverage": model.certificate_.coverage}))


def _run_default_fit(problem, seed, revision, sha, env, rows):
    """Run one default fit in a child process; append its row and return its result."""
    done = subprocess.run([sys.executable, __file__, "--child-default-fit", str(problem), str(seed)], env=env,
                          capture_output=True, text=True, check=False)
    print(done.stderr[-2000:], flush=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rows.append(f"| {result['name']} | {seed} | `{revision}` ({sha}) | {result['seconds']:.1f} | "
                f"{result['objective']:.8g} | {result['score']:.4f} | {result['neurons']} | "
                f"{result['coverage'].split(':')[0]} |")
    print(rows[-1], flush=True)
    return result


def _seed_summary(results, revisions):
    """Rows comparing each revision's objectives with the first revision's, seed by seed.

    ``results[(name, i)]`` lists ``(objective, seconds)`` by seed for ``revisions[i]`` (by position:
    the same revision may be given twice, to measure the noise).
    """
    rows = ["### Across seeds", "",
            "Relative difference of the train objective from the first revision's on the same seed: its mean "
            "with a 95 % interval (t distribution over the seeds), and how many seeds are lower, equal and "
            "higher. Times are summed over the seeds.", "",
            "| problem | revision | median objective | mean objective | mean relative difference [95 % interval] "
            "| lower / equal / higher | total time (s) |", "|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(key[0] for key in results):
        base = np.array([o for o, _ in results[(name, 0)]])
        for i, revision in enumerate(revisions):
            objectives = np.array([o for o, _ in results[(name, i)]])
            seconds = sum(t for _, t in results[(name, i)])
            difference, counts = "", ""
            if i > 0:
                relative = (objectives - base) / np.abs(base)
                mean = relative.mean()
                half = stats.t.ppf(0.975, relative.size - 1) * relative.std(ddof=1) / np.sqrt(relative.size)
                difference = f"{mean:+.2e} [{mean - half:+.2e}, {mean + half:+.2e}]"
                counts = f"{np.sum(relative < 0)} / {np.sum(relative == 0)} / {np.sum(relative > 0)}"
            rows.append(f"| {name} | `{revision}` | {np.median(objectives):.8g} | {objectives.mean():.8g} | "
                        f"{difference} | {counts} | {seconds:.1f} |")
    return rows + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", nargs="+")
    parser.add_argument("--cases", nargs="*", default=["small", "medium", "logloss", "interpolating"],
                        choices=list(CASES))
    parser.add_argument("--default-fits", nargs="*", type=int, default=[])
    parser.add_argument("--seeds", type=int, default=1, help="random_state 0, ..., SEEDS - 1 for the default fits")
    parser.add_argument("--child-default-fit", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_default_fit is not None:
        _default_fit(*args.child_default_fit)
        return
    if not args.revisions:
        parser.error("--revisions is required")
    root = _git("-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--show-toplevel")
    rows = ["# The first-order solver at several revisions, side by side", "", f"Machine: {machine()}.", "",
            "Each case runs once per revision, in a fresh process, revisions alternating; the benchmark "
            "code is the same for all (see `bench_solvers.py` for the columns).", ""]
    try:
        with tempfile.TemporaryDirectory() as directory:
            trees = [(revision, *_checkout(root, revision, directory, i)) for i, revision in enumerate(args.revisions)]
            for name in args.cases:
                for revision, sha, env in trees:
                    rows += [f"**Revision `{revision}` ({sha}):**", ""]
                    run_case_subprocess(name, rows, ["first_order"], env=env)
            if args.default_fits:
                rows += ["## Default estimator fits of `bench_quality.py`", "",
                         "| problem | random_state | revision | time (s) | train objective | test score | neurons "
                         "| patterns |", "|---|---|---|---|---|---|---|---|"]
            results = {}
            for problem in args.default_fits:
                for seed in range(args.seeds):
                    for i, (revision, sha, env) in enumerate(trees):
                        result = _run_default_fit(problem, seed, revision, sha, env, rows)
                        results.setdefault((result["name"], i), []).append(
                            (result["objective"], result["seconds"]))
            if args.default_fits and args.seeds > 1:
                rows += [""] + _seed_summary(results, args.revisions)
    finally:
        _git("-C", root, "worktree", "prune")  # the temporary worktrees are gone: forget them
    write_results(RESULTS, rows)


if __name__ == "__main__":
    main()
