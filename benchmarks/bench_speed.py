"""Speed of the default fit against scikit-learn's MLPs, and of model selection (issue 12, item 6).

Part 1, one fit. The default estimators (``ConvexReLURegressor(alpha=1e-3, random_state=0)``,
``ConvexReLUClassifier(alpha=1e-3, random_state=0)``) against ``MLPRegressor`` / ``MLPClassifier``
(``hidden_layer_sizes=(100,)``, ``alpha = n · 1e-3`` so that the objectives match per SPEC §1 up
to the unpenalised MLP biases, ``random_state=0``, solvers ``"lbfgs"`` and ``"adam"``, the other
parameters at scikit-learn's defaults) on

- ``teacher10`` / ``teacher20`` / ``teacher50``: ``_common.planted_teacher(n, p, hidden_bias=True,
  seed=p)``;
- ``friedman1``: ``make_friedman1`` (10 features, noise 1), features and target standardised with the
  training statistics;
- ``digits``: ``load_digits`` (64 features, 10 classes), features standardised; it has 1,797 samples,
  so only n = 250 and 1000 exist (the rest is the test set).

for n = 250, 1000, 4000, 16000 training samples (2,000 test samples, 797 for digits). Reported: CPU
time with one BLAS thread (``time.process_time`` under ``threadpool_limits(1)``), wall time with
the default threads (both measured on separate fits, the methods alternating), the training
objective (NC) of SPEC §1 with the hidden bias penalised, evaluated the same way for every method
(``est.network_.objective`` and ``TwoLayerReLUNetwork.from_mlp(mlp).objective``), and the test score
(R² or accuracy). Then the log–log slopes of CPU time against n (per problem and method) and against
the number of features (the three teachers, per n).

Part 2, model selection on ``load_diabetes`` (features and target standardised with the training
statistics of a 70/30 split): 5 alphas × 5 folds (``KFold(5, shuffle=True, random_state=0)``),
``GridSearchCV`` over the base estimator (default ``arrangements="auto"``, a pattern search per fit,
and ``arrangements="sample"``, the model ``ConvexReLURegressorCV`` selects on), the same search over
``MLPRegressor`` (L-BFGS, alpha scaled by the fold size), and ``ConvexReLURegressorCV(alphas=<the
same 5>, cv=<the same folds>)``: CPU time and held-out R² of the refitted model.

Part 3, instead of parts 1 and 2 with ``--budgets``: what the pattern search's budget buys. For every
problem and size, ``MLPRegressor``/``MLPClassifier`` (L-BFGS) and then the default estimator with
``max_arrangements`` set to each budget (2000 is the default): CPU time with one BLAS thread and the
training objective, both also relative to the MLP's of the same run, and the test score.

Part 4, instead of parts 1 and 2 with ``--phases``: where the CPU time of a default fit goes, each
phase against the MLP's whole fit (L-BFGS, fitted just before): the gradient-descent networks of the
pattern search (its seed and the refinement of each round), the gradient ascent for violated
patterns, their exact κ, the convex solves of the search rounds, the final solve (with its polish
and certificate) and the optimal set. The phases are timed by wrapping the package's internal
functions for the run.

Run: ``python benchmarks/bench_speed.py [--sizes 250 1000] [--problems teacher20 digits] [--quick]
[--no-cv] [--only-cv] [--budgets 200 400 800 2000] [--phases]``; writes
``benchmarks/results/speed.md`` (a subset run says which rows were not run), or
``benchmarks/results/budgets.md`` with ``--budgets``, ``benchmarks/results/phases.md`` with ``--phases``.
"""

import argparse
import contextlib
import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, planted_teacher, write_results  # noqa: E402

from sklearn_convexrelu import (  # noqa: E402
    ConvexReLUClassifier, ConvexReLURegressor, ConvexReLURegressorCV, TwoLayerReLUNetwork, _base, pattern_search,
)
from sklearn_convexrelu.solvers import FirstOrderSolver  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "speed.md")
BUDGET_RESULTS = os.path.join(os.path.dirname(__file__), "results", "budgets.md")
PHASE_RESULTS = os.path.join(os.path.dirname(__file__), "results", "phases.md")
# Part 4: phase -> the internal functions whose CPU time it sums, as (owner, attribute)
PHASES = {
    "seed and refinement networks (Adam)": [(pattern_search, "_seed_network"), (pattern_search, "_refined_gates")],
    "ascent": [(pattern_search, "_ascent")],
    "κ of new patterns": [(pattern_search, "_violated_patterns")],
    "solves of the search rounds": [(FirstOrderSolver, "solve")],
    "final solve": [(_base, "solve_convex_program")],
    "optimal set": [(_base, "optimal_set_from_fit")],
}
# phases counted only inside the pattern search (search_arrangements): the final solve and the optimal
# set call FirstOrderSolver.solve too
SEARCH_ONLY = {"solves of the search rounds"}
ALPHA, WIDTH, N_TEST = 1e-3, 100, 2000
SIZES = (250, 1000, 4000, 16000)
PROBLEMS = ("teacher10", "teacher20", "teacher50", "friedman1", "digits")
METHODS = ("convex (default)", "MLP lbfgs", "MLP adam")
CV_ALPHAS = (0.1, 0.03, 0.01, 0.003, 0.001)


def problem(name, n):
    """``X_train, X_test, y_train, y_test, classification`` or ``None`` when the data set is too small."""
    if name.startswith("teacher"):
        p = int(name[len("teacher"):])
        X, y = planted_teacher(n + N_TEST, p, hidden_bias=True, seed=p)
        return X[:n], X[n:], y[:n], y[n:], False
    if name == "friedman1":
        X, y = make_friedman1(n + N_TEST, noise=1.0, random_state=0)
        X_train, X_test, y_train, y_test = X[:n], X[n:], y[:n], y[n:]
        scale = StandardScaler().fit(X_train)
        mean, std = y_train.mean(), y_train.std()
        return scale.transform(X_train), scale.transform(X_test), (y_train - mean) / std, (y_test - mean) / std, False
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        if n >= len(y):
            return None
        X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=n, random_state=0, stratify=y)
        scale = StandardScaler().fit(X_train)
        return scale.transform(X_train), scale.transform(X_test), y_train, y_test, True
    raise ValueError(name)


def estimator(method, n, classification):
    if method == "convex (default)":
        return (ConvexReLUClassifier if classification else ConvexReLURegressor)(alpha=ALPHA, random_state=0)
    MLP = MLPClassifier if classification else MLPRegressor
    return MLP(hidden_layer_sizes=(WIDTH,), alpha=n * ALPHA, solver=method.split()[-1], random_state=0)


def network_of(est):
    return est.network_ if hasattr(est, "network_") else TwoLayerReLUNetwork.from_mlp(est)


def objective(network, X, y, classification, classes):
    """(NC) of SPEC §1 with the hidden bias penalised, the same formula for every method."""
    if not classification:
        return network.objective(X, y, ALPHA)
    labels = np.searchsorted(classes, y)
    target = np.where(labels == 1, 1.0, -1.0) if classes.size == 2 else labels
    return network.objective(X, target, ALPHA, loss="log_loss")


def timed_fit(est, X, y, cpu):
    """Fit ``est``; CPU seconds with one BLAS thread if ``cpu``, else wall seconds with default threads."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if cpu:
            with threadpool_limits(1):
                start = time.process_time()
                est.fit(X, y)
                return time.process_time() - start
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start


def run_fits(problems, sizes):
    """``{(problem, n, method): dict(cpu, wall, objective, score)}``; sizes a data set is too small for
    are left out."""
    results = {}
    for name, n, (X, X_test, y, y_test, classification) in _cases(problems, sizes):
        row = {}
        for cpu in (True, False):  # all methods with one thread, then all with default threads
            for method in METHODS:
                est = estimator(method, n, classification)
                seconds = timed_fit(est, X, y, cpu)
                entry = row.setdefault(method, {})
                entry["cpu" if cpu else "wall"] = seconds
                if cpu:
                    classes = getattr(est, "classes_", None)
                    entry["objective"] = objective(network_of(est), X, y, classification, classes)
                    entry["score"] = est.score(X_test, y_test)
        for method, entry in row.items():
            results[name, n, method] = entry
            print(f"{name:10s} n={n:6d} {method:17s} cpu {entry['cpu']:8.2f} s  wall {entry['wall']:8.2f} s  "
                  f"objective {entry['objective']:.6g}  score {entry['score']:.4f}", flush=True)
    return results


def _cases(problems, sizes):
    """``(name, n, data)`` for every problem and size whose data set is large enough (see :func:`problem`)."""
    for name in problems:
        for n in sizes:
            data = problem(name, n)
            if data is None:
                print(f"{name} n={n}: the data set is too small", flush=True)
            else:
                yield name, n, data


def slope(xs, ys):
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def fit_lines(results, problems, sizes):
    lines = ["## One fit", "",
             "| problem | n | method | CPU (s), 1 thread | wall (s), default threads | train objective (NC) | "
             "test score |", "|---|---|---|---|---|---|---|"]
    for name in problems:
        for n in sizes:
            for method in METHODS:
                entry = results.get((name, n, method))
                if entry is not None:
                    lines.append(f"| {name} | {n} | {method} | {entry['cpu']:.2f} | {entry['wall']:.2f} | "
                                 f"{entry['objective']:.6g} | {entry['score']:.4f} |")
    lines += ["", "Test score: R² (regression), accuracy (digits).", "",
              "### Log–log slopes of CPU time", "", "Against n (per problem and method, where ≥ 2 sizes ran):", "",
              "| problem | method | sizes | slope |", "|---|---|---|---|"]
    for name in problems:
        for method in METHODS:
            points = [(n, results[name, n, method]["cpu"]) for n in sizes if (name, n, method) in results]
            if len(points) >= 2:
                ns, ts = zip(*points)
                lines.append(f"| {name} | {method} | {', '.join(map(str, ns))} | {slope(ns, ts):.2f} |")
    teachers = [t for t in ("teacher10", "teacher20", "teacher50") if t in problems]
    if len(teachers) >= 2:
        lines += ["", "Against the number of features (the planted teachers, per n):", "",
                  "| n | method | features | slope |", "|---|---|---|---|"]
        for n in sizes:
            for method in METHODS:
                points = [(int(t[7:]), results[t, n, method]["cpu"]) for t in teachers if (t, n, method) in results]
                if len(points) >= 2:
                    ps, ts = zip(*points)
                    lines.append(f"| {n} | {method} | {', '.join(map(str, ps))} | {slope(ps, ts):.2f} |")
    return lines


def _mlp_baseline(n, X, y, classification):
    """``MLP lbfgs`` fitted on ``(X, y)``, with its CPU time (one BLAS thread)."""
    mlp = estimator("MLP lbfgs", n, classification)
    return mlp, timed_fit(mlp, X, y, cpu=True)


def run_budgets(problems, sizes, budgets):
    """Part 3: the default estimator at each search budget against MLP (L-BFGS), CPU time."""
    lines = ["CPU time with one BLAS thread, training objective (NC) with the hidden bias penalised and test "
             "score; time and objective also relative to `MLP lbfgs`, fitted just before in the same run. "
             "`max_arrangements` = 2000 is the default.", "",
             "| problem | n | method | CPU (s) | × MLP time | train objective | vs MLP objective | test score "
             "| search stopped |", "|---|---|---|---|---|---|---|---|---|"]
    for name, n, (X, X_test, y, y_test, classification) in _cases(problems, sizes):
        mlp, mlp_seconds = _mlp_baseline(n, X, y, classification)
        mlp_objective = objective(network_of(mlp), X, y, classification, getattr(mlp, "classes_", None))
        lines.append(f"| {name} | {n} | MLP lbfgs | {mlp_seconds:.2f} | 1 | {mlp_objective:.6g} | | "
                     f"{mlp.score(X_test, y_test):.4f} | |")
        print(lines[-1], flush=True)
        for budget in budgets:
            est = estimator("convex (default)", n, classification).set_params(max_arrangements=budget)
            seconds = timed_fit(est, X, y, cpu=True)
            value = objective(network_of(est), X, y, classification, getattr(est, "classes_", None))
            search = est.pattern_search_
            lines.append(f"| {name} | {n} | convex, max_arrangements={budget} | {seconds:.2f} | "
                         f"{seconds / mlp_seconds:.1f} | {value:.6g} | {value / mlp_objective - 1:+.1%} | "
                         f"{est.score(X_test, y_test):.4f} | "
                         f"{'' if search is None else f'{search.stopped}, {search.n_rounds} round(s)'} |")
            print(lines[-1], flush=True)
    return lines


@contextlib.contextmanager
def _phase_timer():
    """Sum CPU time per phase of :data:`PHASES` while the context is open (the functions wrapped)."""
    seconds = dict.fromkeys(PHASES, 0.0)
    in_search = [False]
    originals = []

    def timed(phase, function, search_only=False):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                if in_search[0] or not search_only:
                    seconds[phase] += time.process_time() - start
        return wrapper

    def searching(function):
        def wrapper(*args, **kwargs):
            in_search[0] = True
            try:
                return function(*args, **kwargs)
            finally:
                in_search[0] = False
        return wrapper

    try:
        for phase, targets in PHASES.items():
            for owner, name in targets:
                function = getattr(owner, name)
                originals.append((owner, name, function))
                setattr(owner, name, timed(phase, function, search_only=phase in SEARCH_ONLY))
        originals.append((_base, "search_arrangements", _base.search_arrangements))
        _base.search_arrangements = searching(_base.search_arrangements)
        yield seconds
    finally:
        for owner, name, function in reversed(originals):
            setattr(owner, name, function)


def run_phases(problems, sizes):
    """Part 4: the default fit's CPU time by phase, against MLP (L-BFGS)."""
    header = " | ".join(PHASES)
    lines = ["CPU seconds with one BLAS thread, and in parentheses as a multiple of `MLP lbfgs`'s whole fit "
             "(fitted just before). `rest`: everything else (the search's sampling and bookkeeping, validation, "
             "the network).", "",
             f"| problem | n | MLP lbfgs | default fit | {header} | rest |",
             "|---|---|---|---|" + "---|" * (len(PHASES) + 1)]
    for name, n, (X, _, y, _, classification) in _cases(problems, sizes):
        _, mlp = _mlp_baseline(n, X, y, classification)
        with _phase_timer() as seconds:
            total = timed_fit(estimator("convex (default)", n, classification), X, y, cpu=True)
        cells = [*seconds.values(), total - sum(seconds.values())]
        lines.append(f"| {name} | {n} | {mlp:.2f} | {total:.2f} ({total / mlp:.1f}×) | "
                     + " | ".join(f"{v:.2f} ({v / mlp:.1f}×)" for v in cells) + " |")
        print(lines[-1], flush=True)
    return lines


def run_cv():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scale = StandardScaler().fit(X_train)
    X_train, X_test = scale.transform(X_train), scale.transform(X_test)
    mean, std = y_train.mean(), y_train.std()
    y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    folds = KFold(5, shuffle=True, random_state=0)
    n_fold = len(y_train) - len(y_train) // 5  # training rows of a fold (the MLP's alpha scales with them)
    searches = {
        "GridSearchCV(ConvexReLURegressor()), default arrangements (a pattern search per fit)":
            lambda: GridSearchCV(ConvexReLURegressor(random_state=0), {"alpha": CV_ALPHAS}, cv=folds),
        "GridSearchCV(ConvexReLURegressor(arrangements=\"sample\")), the model the CV estimator selects on":
            lambda: GridSearchCV(ConvexReLURegressor(arrangements="sample", random_state=0), {"alpha": CV_ALPHAS},
                                 cv=folds),
        "ConvexReLURegressorCV(alphas=<the 5>, cv=<the folds>)":
            lambda: ConvexReLURegressorCV(alphas=CV_ALPHAS, cv=folds, random_state=0),
        "GridSearchCV(MLPRegressor(lbfgs, (100,))), alpha = n_fold · the 5":
            lambda: GridSearchCV(MLPRegressor(hidden_layer_sizes=(WIDTH,), solver="lbfgs", random_state=0),
                                 {"alpha": [n_fold * a for a in CV_ALPHAS]}, cv=folds),
    }
    rows = []
    for label, make in searches.items():
        search = make()
        seconds = timed_fit(search, X_train, y_train, cpu=True)
        chosen = search.alpha_ if hasattr(search, "alpha_") else search.best_params_["alpha"]
        if label.startswith("GridSearchCV(MLP"):
            chosen /= n_fold
        rows.append((label, seconds, chosen, search.score(X_test, y_test)))
        print(f"{label}: cpu {seconds:.2f} s, alpha {chosen:g}, test R² {rows[-1][3]:.4f}", flush=True)
    lines = ["## Model selection on load_diabetes", "",
             f"n = {len(y_train)} training rows (10 features), {len(y_test)} held out; features and target "
             f"standardised; alphas {', '.join(map(str, CV_ALPHAS))} (in units of the standardised target); "
             "`KFold(5, shuffle=True, random_state=0)`; refit on the training rows at the chosen alpha; CPU time "
             "with one BLAS thread.", "",
             "| method | CPU (s) | chosen alpha | held-out R² |", "|---|---|---|---|"]
    lines += [f"| {label} | {seconds:.2f} | {alpha:g} | {score:.4f} |" for label, seconds, alpha, score in rows]
    return lines


def _page(title):
    """The first lines of a results file: its title and the machine."""
    return [f"# {title}", "", f"Machine: {machine()}.", ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--quick", action="store_true", help="teacher10 and digits at n = 250 only")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-cv", action="store_true", help="skip the model-selection comparison")
    mode.add_argument("--only-cv", action="store_true", help="only the model-selection comparison")
    mode.add_argument("--budgets", type=int, nargs="+",
                      help="part 3 only: the default fit at these max_arrangements (written to results/budgets.md)")
    mode.add_argument("--phases", action="store_true",
                      help="part 4 only: the default fit's time by phase (written to results/phases.md)")
    parser.add_argument("--output", help="results file (default: results/speed.md, results/budgets.md with "
                                         "--budgets, results/phases.md with --phases)")
    args = parser.parse_args()
    sizes, problems = sorted(args.sizes), list(args.problems)
    if args.quick:
        sizes, problems = [250], ["teacher10", "digits"]
    if args.phases:
        write_results(args.output or PHASE_RESULTS,
                      _page("Where the time of a default fit goes") + run_phases(problems, sizes))
        return
    if args.budgets:
        write_results(args.output or BUDGET_RESULTS, _page("The pattern search's budget against time and objective")
                      + run_budgets(problems, sizes, sorted(args.budgets)))
        return
    lines = _page("Speed of the default fit and of model selection")
    if not args.only_cv:
        results = run_fits(problems, sizes)
        missing = [f"{name} n={n}" for name in PROBLEMS for n in SIZES if not (name in problems and n in sizes)]
        too_small = [f"{name} n={n}" for name in problems for n in sizes
                     if not any((name, n, m) in results for m in METHODS)]
        lines += [f"Ran: problems {', '.join(problems)} at n = {', '.join(map(str, sizes))}."]
        if missing:
            lines += [f"Not run: {', '.join(missing)}."]
        if too_small:
            lines += [f"Not available (data set too small): {', '.join(too_small)}."]
        lines += [""] + fit_lines(results, problems, sizes) + [""]
    if not args.no_cv:
        lines += run_cv()
    else:
        lines += ["Model selection: not run in this run."]
    write_results(args.output or RESULTS, lines)


if __name__ == "__main__":
    main()
