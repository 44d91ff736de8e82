"""The first-order solver at several git revisions, side by side in one run (issue 5).

For every case of ``bench_solvers.py`` (first-order solver only), every default estimator fit of
``bench_quality.py`` asked for with ``--default-fits`` (problem numbers, from 0), and every revision, a
fresh process runs the case with the package imported from a temporary ``git worktree`` of the
revision (the benchmark code itself is this checkout's). Revisions alternate within each case, so
that the load of a shared machine falls on all of them alike: compare times within one run, not
across runs.

Run: ``python benchmarks/bench_revisions.py --revisions 2fd1a41 HEAD [--cases small ...]
[--default-fits 1]``; writes ``benchmarks/results/revisions.md``. Not run in CI.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, write_results  # noqa: E402
from bench_solvers import CASES, run_case_subprocess  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "revisions.md")


def _git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


def _checkout(root, revision, directory):
    """A detached worktree of ``revision`` under ``directory``; its environment imports the package from it."""
    sha = _git("-C", root, "rev-parse", "--short", revision)
    path = os.path.join(directory, sha)
    _git("-C", root, "worktree", "add", "--detach", path, sha)
    env = dict(os.environ, PYTHONPATH=path)
    where = subprocess.run([sys.executable, "-c", "import sklearn_convexrelu; print(sklearn_convexrelu.__file__)"],
                           env=env, cwd=directory, check=True, capture_output=True, text=True).stdout.strip()
    if not where.startswith(path):
        raise RuntimeError(f"revision {revision}: the package was imported from {where}, not from {path}.")
    return sha, env


def _default_fit(problem):
    """Child: the default estimator fit of ``bench_quality.py``'s problem number ``problem``, as JSON."""
    from bench_quality import problems, run_convex

    name, data = list(problems().items())[problem]
    (_, neurons, objective, score, _, seconds), model = run_convex(*data, "auto")
    print(json.dumps({"name": name, "seconds": seconds, "objective": objective, "score": score, "neurons": neurons,
                      "coverage": model.certificate_.coverage}))


def _run_default_fit(problem, revision, sha, env, rows):
    done = subprocess.run([sys.executable, __file__, "--child-default-fit", str(problem)], env=env,
                          capture_output=True, text=True, check=False)
    print(done.stderr[-2000:], flush=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rows.append(f"| {result['name']} | `{revision}` ({sha}) | {result['seconds']:.1f} | {result['objective']:.8g} | "
                f"{result['score']:.4f} | {result['neurons']} | {result['coverage']} |")
    print(rows[-1], flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", nargs="+")
    parser.add_argument("--cases", nargs="*", default=["small", "medium", "logloss", "interpolating"],
                        choices=list(CASES))
    parser.add_argument("--default-fits", nargs="*", type=int, default=[])
    parser.add_argument("--child-default-fit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_default_fit is not None:
        _default_fit(args.child_default_fit)
        return
    if not args.revisions:
        parser.error("--revisions is required")
    root = _git("-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--show-toplevel")
    rows = ["# The first-order solver at several revisions, side by side", "", f"Machine: {machine()}.", "",
            "Each case runs once per revision, in a fresh process, revisions alternating; the benchmark "
            "code is the same for all (see `bench_solvers.py` for the columns).", ""]
    try:
        with tempfile.TemporaryDirectory() as directory:
            trees = [(revision, *_checkout(root, revision, directory)) for revision in args.revisions]
            for name in args.cases:
                for revision, sha, env in trees:
                    rows += [f"**Revision `{revision}` ({sha}):**", ""]
                    run_case_subprocess(name, rows, ["first_order"], env=env)
            if args.default_fits:
                rows += ["## Default estimator fits of `bench_quality.py`", "",
                         "| problem | revision | time (s) | train objective | test score | neurons | patterns |",
                         "|---|---|---|---|---|---|---|"]
            for problem in args.default_fits:
                for revision, sha, env in trees:
                    _run_default_fit(problem, revision, sha, env, rows)
    finally:
        _git("-C", root, "worktree", "prune")  # the temporary worktrees are gone: forget them
    write_results(RESULTS, rows)


if __name__ == "__main__":
    main()
