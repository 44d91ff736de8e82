"""The batched cone projections before and after the numba kernel, side by side (issue 12).

*old* is the vectorised numpy Lawson–Hanson method of ``program/cones.py`` at ``--old-revision`` (the
revision before the kernel), loaded from git into this process; *new* is this checkout's
``project_onto_cones`` (compiled, :mod:`sklearn_convexrelu.program._cone_kernels`). Four parts:

1. Batches like the solver's: blocks ``±X̃ᵀD_i r`` of a planted teacher's least-squares residual
   ``r`` over sampled gates, the ``B`` largest (screening), cold faces with ``threshold=0`` (exact, as
   in ``cone_kappas``) and with ``threshold=alpha`` (bound only), and warm faces from each method's
   own call on a nearby residual (a solver iteration earlier). CPU time of the call, old and new
   alternating, the median of ``--repeats``; the largest difference of the exact projections.
2. Every ``project_onto_cones`` call of one default fit (``ConvexReLURegressor(alpha=1e-3,
   random_state=0)`` on ``planted_teacher(1000, 20, hidden_bias=True, seed=20)``), recorded with the
   new code and replayed by both.
3. The one-off JIT compile: the first call in a fresh process with an empty numba cache
   (``NUMBA_CACHE_DIR`` a new directory) and in a second process that reuses the cache.
4. That fit end to end, each run in its own process with the package imported from a temporary
   ``git worktree`` of HEAD (new) and of HEAD with ``program/cones.py`` of ``--old-revision``
   (old; everything else equal), alternating, ``--fit-repeats`` each.

Everything runs with one BLAS thread (``threadpoolctl``) and reports CPU time: compare within a run.

Run: ``python benchmarks/bench_kernels.py [--quick] [--old-revision REV] [--repeats 3]
[--fit-repeats 3]``; writes ``benchmarks/results/kernels.md``. Not run in CI.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from _common import machine, planted_teacher, write_results  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "kernels.md")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONES = "sklearn_convexrelu/program/cones.py"
OLD_REVISION = "0c70c96^"  # the last revision of the vectorised numpy method
CONFIGS = [(200, 11, 100), (200, 11, 2000), (1000, 21, 1000), (1000, 51, 1000), (4000, 21, 2000), (4000, 51, 500)]
QUICK_CONFIGS = [(200, 11, 100), (1000, 21, 1000), (4000, 51, 200)]
FIT = dict(n_samples=1000, n_features=20, seed=20, alpha=1e-3)


def _git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True, text=True).stdout.strip()


def old_cones(revision):
    """The module ``program/cones.py`` of ``revision``, executed inside the current package."""
    import sklearn_convexrelu.program  # noqa: F401  (its relative imports resolve in the package)

    module = types.ModuleType("sklearn_convexrelu.program._cones_before_kernel")
    module.__package__ = "sklearn_convexrelu.program"
    exec(compile(_git("show", f"{revision}:{CONES}"), f"{revision}:{CONES}", "exec"), module.__dict__)
    return module


def solver_like_blocks(n, d, n_blocks, seed=0):
    """``X̃``, patterns and the ``n_blocks`` largest blocks ``±X̃ᵀD_i r`` with their patterns, a level
    ``alpha`` (the median norm of their projections: half the blocks violate dual feasibility) and the
    blocks of a nearby residual (for warm faces)."""
    X, y = planted_teacher(n, d - 1, hidden_bias=True, seed=seed)
    X_aug = np.hstack([X, np.ones((n, 1))])
    rng = np.random.default_rng(seed)
    patterns = X_aug @ rng.standard_normal((d, 2 * n_blocks)) >= 0
    patterns = np.asfortranarray(patterns[:, patterns.any(axis=0)])  # the estimators' layout
    r = (y - X_aug @ np.linalg.lstsq(X_aug, y, rcond=None)[0]) / n
    earlier = r + 0.05 * np.linalg.norm(r) / np.sqrt(n) * rng.standard_normal(n)

    def blocks(residual):
        A = X_aug.T @ (patterns * residual[:, None])
        return np.hstack([A, -A]), np.r_[np.arange(patterns.shape[1]), np.arange(patterns.shape[1])]

    from sklearn_convexrelu.program import project_onto_cones

    A, index = blocks(r)
    top = np.argsort(np.linalg.norm(A, axis=0))[::-1][:n_blocks]
    A, index = A[:, top], index[top]
    alpha = float(np.median(np.linalg.norm(project_onto_cones(X_aug, patterns, A, index)[0], axis=0)))
    return X_aug, patterns, A, index, alpha, blocks(earlier)[0][:, top]


def _cpu(function):
    start = time.process_time()
    out = function()
    return time.process_time() - start, out


def side_by_side(old, new, repeats):
    """CPU seconds of ``old()`` and ``new()``, alternating (old first in even repetitions); last outputs."""
    times = {"old": [], "new": []}
    outs = {}
    for repeat in range(repeats):
        for name in ("old", "new") if repeat % 2 == 0 else ("new", "old"):
            seconds, outs[name] = _cpu(old if name == "old" else new)
            times[name].append(seconds)
    return float(np.median(times["old"])), float(np.median(times["new"])), outs


def _difference(A, out_old, out_new):
    (U_old, exact_old, _), (U_new, exact_new, _) = out_old, out_new
    both = exact_old & exact_new
    scale = np.linalg.norm(A, axis=0)
    error = float((np.linalg.norm(U_old - U_new, axis=0) / scale)[both].max(initial=0.0))
    return error, int((exact_old != exact_new).sum())


def kernel_table(old, configs, repeats):
    from sklearn_convexrelu.program import project_onto_cones as new_project

    rows = ["| n | d | blocks | faces, threshold | old (s) | new (s) | speed-up | exact (old / new) | "
            "max rel. ΔU (exact) |", "|---|---|---|---|---|---|---|---|---|"]
    for n, d, n_blocks in configs:
        X_aug, patterns, A, index, alpha, A_earlier = solver_like_blocks(n, d, n_blocks)
        faces = {name: project(X_aug, patterns, A_earlier, index, threshold=alpha)[2]
                 for name, project in (("old", old.project_onto_cones), ("new", new_project))}
        for label, warm, threshold in (("cold, 0", False, 0.0), ("cold, alpha", False, alpha),
                                       ("warm, alpha", True, alpha)):
            def run(project, name, warm=warm, threshold=threshold):
                return lambda: project(X_aug, patterns, A, index, faces=faces[name] if warm else None,
                                       threshold=threshold)

            t_old, t_new, outs = side_by_side(run(old.project_onto_cones, "old"), run(new_project, "new"), repeats)
            error, _ = _difference(A, outs["old"], outs["new"])
            rows.append(f"| {n} | {d} | {A.shape[1]} | {label} | {t_old:.3f} | {t_new:.4f} | {t_old / t_new:.1f}× | "
                        f"{outs['old'][1].sum()} / {outs['new'][1].sum()} | {error:.1e} |")
            print(rows[-1], flush=True)
    return rows


def _fit_data():
    return planted_teacher(FIT["n_samples"], FIT["n_features"], hidden_bias=True, seed=FIT["seed"])


def recorded_calls():
    """Every ``project_onto_cones`` call of the default fit (new code): arrays and keyword arguments."""
    from sklearn_convexrelu import ConvexReLURegressor
    from sklearn_convexrelu.program import cones
    from sklearn_convexrelu.solvers import _cone_projection

    calls, project = [], cones.project_onto_cones

    def recording(X_aug, patterns, A, index, *, faces=None, threshold=0.0):
        calls.append((X_aug, patterns, np.array(A), np.array(index), None if faces is None else np.array(faces),
                      threshold))
        return project(X_aug, patterns, A, index, faces=faces, threshold=threshold)

    cones.project_onto_cones = _cone_projection.project_onto_cones = recording
    try:
        ConvexReLURegressor(alpha=FIT["alpha"], random_state=0).fit(*_fit_data())
    finally:
        cones.project_onto_cones = _cone_projection.project_onto_cones = project
    return calls


def replay_table(old, repeats, every):
    from sklearn_convexrelu.program import project_onto_cones as new_project

    calls = recorded_calls()[::every]

    def replay(project):
        return lambda: [project(X, P, A, i, faces=f, threshold=t) for X, P, A, i, f, t in calls]

    t_old, t_new, outs = side_by_side(replay(old.project_onto_cones), replay(new_project), repeats)
    errors = [_difference(call[2], a, b) for call, a, b in zip(calls, outs["old"], outs["new"])]
    blocks = sum(call[2].shape[1] for call in calls)
    warm = sum(call[4] is not None and (call[4] >= 0).any() for call in calls)
    return [f"{len(calls)} calls{'' if every == 1 else f' (every {every}th)'}, {blocks} blocks "
            f"({blocks / len(calls):.0f} per call), {warm} calls with warm faces: old {t_old:.2f} s, "
            f"new {t_new:.2f} s, **{t_old / t_new:.1f}×**; largest relative difference of exact projections "
            f"{max(e for e, _ in errors):.1e}, {sum(f for _, f in errors)} exact flags differ."]


_FIRST_CALL = """
import time
start = time.process_time()
import numpy as np
from sklearn_convexrelu.program import project_onto_cones
imported = time.process_time()
rng = np.random.default_rng(0)
X_aug = np.hstack([rng.standard_normal((50, 3)), np.ones((50, 1))])
patterns, A = X_aug @ rng.standard_normal((4, 10)) >= 0, rng.standard_normal((4, 10))
project_onto_cones(X_aug, patterns, A, np.arange(10))
first = time.process_time()
project_onto_cones(X_aug, patterns, A, np.arange(10))
print(imported - start, first - imported, time.process_time() - first)
"""


def compile_times():
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty numba cache (compiles)", "cache of the previous process"):
            out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.split()
            imported, first, second = map(float, out)
            rows.append(f"| {label} | {imported:.2f} | {first:.3f} | {second * 1e3:.2f} |")
            print(rows[-1], flush=True)
        files = sum(len(names) for _, _, names in os.walk(cache))
    return ["| fresh process, | import of the package (s) | first call (s) | second call (ms) |",
            "|---|---|---|---|", *rows, "", f"(CPU seconds; {files} files in the cache directory.)"]


def _child_fit():
    """Child of :func:`end_to_end`: one default fit with one BLAS thread, as JSON."""
    from threadpoolctl import threadpool_limits

    import sklearn_convexrelu
    from sklearn_convexrelu import ConvexReLURegressor
    from sklearn_convexrelu.program import project_onto_cones

    X, y = _fit_data()
    with threadpool_limits(1):
        eye = np.eye(2)
        project_onto_cones(eye, eye > 0, eye, np.arange(2))  # loads (or compiles) the kernel outside the timing
        seconds, model = _cpu(lambda: ConvexReLURegressor(alpha=FIT["alpha"], random_state=0).fit(X, y))
    print(json.dumps({"seconds": seconds, "objective": model.objective_, "gap": model.dual_gap_,
                      "neurons": int(model.n_neurons_), "where": sklearn_convexrelu.__file__}))


def end_to_end(old_revision, repeats):
    head = _git("rev-parse", "--short", "HEAD")
    old_short = _git("rev-parse", "--short", old_revision)
    with tempfile.TemporaryDirectory() as directory:
        trees = {name: os.path.join(directory, name) for name in ("old", "new")}
        try:
            for path in trees.values():
                _git("worktree", "add", "--detach", path, head)
            with open(os.path.join(trees["old"], CONES), "w") as handle:
                handle.write(_git("show", f"{old_revision}:{CONES}") + "\n")
            results = {"old": [], "new": []}
            for path in trees.values():  # compile into the worktree's numba cache before the timings
                subprocess.run([sys.executable, "-c", _FIRST_CALL], cwd=directory, env=dict(os.environ, PYTHONPATH=path),
                               check=True, capture_output=True)
            for repeat in range(repeats):
                for name in ("old", "new") if repeat % 2 == 0 else ("new", "old"):
                    done = subprocess.run([sys.executable, __file__, "--child-fit"], cwd=directory,
                                          env=dict(os.environ, PYTHONPATH=trees[name]), check=True,
                                          capture_output=True, text=True)
                    result = json.loads(done.stdout.strip().splitlines()[-1])
                    if not result["where"].startswith(trees[name]):
                        raise RuntimeError(f"{name}: the package was imported from {result['where']}")
                    results[name].append(result)
                    print(name, result, flush=True)
        finally:
            for path in trees.values():
                subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path], check=False)
    rows = ["| code | fit CPU (s), each run | median | objective | relative gap | neurons |", "|---|---|---|---|---|---|"]
    for name, label in (("old", f"HEAD {head} with `cones.py` of {old_short} (numpy)"), ("new", f"HEAD {head} (numba)")):
        runs = results[name]
        seconds = ", ".join(f"{r['seconds']:.1f}" for r in runs)
        rows.append(f"| {label} | {seconds} | "
                    f"{np.median([r['seconds'] for r in runs]):.1f} | {runs[-1]['objective']:.8g} | "
                    f"{runs[-1]['gap']:.1e} | {runs[-1]['neurons']} |")
    ratio = np.median([r["seconds"] for r in results["old"]]) / np.median([r["seconds"] for r in results["new"]])
    return rows + ["", f"End-to-end speed-up (ratio of median CPU times): **{ratio:.2f}×**."]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and smaller batches, one fit each")
    parser.add_argument("--old-revision", default=OLD_REVISION)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-repeats", type=int, default=3)
    parser.add_argument("--child-fit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_fit:
        return _child_fit()
    from threadpoolctl import threadpool_limits

    import numba

    repeats = 1 if args.quick else args.repeats
    old = old_cones(args.old_revision)
    lines = ["# Cone projections: vectorised numpy vs the numba kernel", "",
             f"Machine: {machine()}, numba {numba.__version__}. One BLAS thread, CPU seconds, median of "
             f"{repeats} alternating runs. old = `program/cones.py` at `{args.old_revision}` "
             f"({_git('rev-parse', '--short', args.old_revision)}), new = HEAD "
             f"({_git('rev-parse', '--short', 'HEAD')}). Run: `python benchmarks/bench_kernels.py"
             f"{' --quick' if args.quick else ''}`.", ""]
    with threadpool_limits(1):
        new_eye = np.eye(2)
        from sklearn_convexrelu.program import project_onto_cones

        project_onto_cones(new_eye, new_eye > 0, new_eye, np.arange(2))  # compile outside the timings
        lines += ["## Solver-like batches", "",
                  "Blocks `±X̃ᵀD_i r` (least-squares residual of a planted teacher, sampled gates), the largest "
                  "ones; `alpha` is the median norm of their projections (half the blocks violate dual "
                  "feasibility, all pass the screening `‖a‖ > alpha`). *cold*: no faces; "
                  "*warm*: each method's faces from its own call on a residual perturbed by 5 %. Threshold 0: "
                  "exact projections; alpha: blocks may stop early with a bound.", ""]
        lines += kernel_table(old, QUICK_CONFIGS if args.quick else CONFIGS, repeats)
        lines += ["", "## The calls of one default fit", "",
                  f"`ConvexReLURegressor(alpha={FIT['alpha']}, random_state=0).fit` on `planted_teacher("
                  f"{FIT['n_samples']}, {FIT['n_features']}, hidden_bias=True, seed={FIT['seed']})`, every "
                  "`project_onto_cones` call recorded (new code) and replayed:", ""]
        lines += replay_table(old, repeats, 4 if args.quick else 1)
    lines += ["", "## One-off compile", ""] + compile_times()
    lines += ["", "## End to end", "",
              "The same fit, each in its own process (one BLAS thread) from a temporary worktree (numba "
              "cache filled beforehand), old and new alternating.", ""]
    lines += end_to_end(args.old_revision, 1 if args.quick else args.fit_repeats)
    write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
