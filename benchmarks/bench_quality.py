"""Quality of the default fit against gradient training on the same objective (issue 5; SPEC §6 (i), §7).

For every problem, on the same training data and the same objective (NC) of SPEC §1:

- the default estimator (``arrangements="auto"``: here a pattern search — sampled gates, the
  patterns of a quick Adam seed network, then violated patterns found by gradient ascent and by
  gradient steps from the solution) and, for reference, ``arrangements="sample"``
  (``n_arrangements=100`` Gaussian gates only), fitted once each (``random_state=0``);
- full-batch Adam on (NC) (:func:`sklearn_convexrelu.landscape.train_nonconvex`, learning rate
  1e-2, ``ADAM_STEPS`` steps), widths 50 and 200, 5 seeds each; then the same runs continued for
  ``MORE_STEPS`` Adam steps at the decayed learning rate 1e-3: Adam's networks after ``ADAM_STEPS``
  are not minima of (NC), and their test scores move as training goes on;
- scikit-learn's ``MLPRegressor`` / ``MLPClassifier`` (``hidden_layer_sizes=(m,)``, L-BFGS,
  ``alpha = n · alpha``, same widths, 5 seeds). Its biases are not penalised, so its objective is
  a different one; the (NC) value of its network is shown for reference only.

Reported: the training objective (NC) (best over seeds) and the test score (R² or accuracy) of that
best run and the median over seeds; for the default fit against the best Adam run, the difference
of test scores with a 95 % paired bootstrap interval over the test samples (how much of it is the
test set's noise). Problems: a planted teacher with 10 and 50 features (no hidden
bias, as in the issue), ``load_diabetes`` (features and target standardised, hidden bias) and
``load_breast_cancer`` (standardised, logistic loss). Not run in CI.

Run: ``python benchmarks/bench_quality.py [--quick]``; writes ``benchmarks/results/quality.md``.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, planted_teacher, write_results  # noqa: E402

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, TwoLayerReLUNetwork  # noqa: E402
from sklearn_convexrelu.landscape.nonconvex import train_nonconvex  # noqa: E402

WIDTHS, SEEDS, ADAM_STEPS, MORE_STEPS, BOOTSTRAP = (50, 200), 5, 2000, 18_000, 2000
RESULTS = os.path.join(os.path.dirname(__file__), "results", "quality.md")


def problems():
    """``name -> (X_train, X_test, y_train, y_test, loss, alpha, hidden_bias)``."""
    out = {}
    for p, n in ((10, 200), (50, 400)):
        X, y = planted_teacher(n + 1000, p, seed=p)
        out[f"planted teacher, {p} features (n={n})"] = (X[:n], X[n:], y[:n], y[n:], "squared_error", 1e-3, False)
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scale_X, scale_y = StandardScaler().fit(X_train), StandardScaler().fit(y_train[:, None])
    out[f"load_diabetes, standardised (n={len(y_train)})"] = (
        scale_X.transform(X_train), scale_X.transform(X_test), scale_y.transform(y_train[:, None])[:, 0],
        scale_y.transform(y_test[:, None])[:, 0], "squared_error", 1e-2, True,
    )
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scale_X = StandardScaler().fit(X_train)
    out[f"load_breast_cancer, standardised (n={len(y_train)})"] = (
        scale_X.transform(X_train), scale_X.transform(X_test), y_train, y_test, "log_loss", 1e-3, True,
    )
    return out


def score(network, X, y, loss):
    """R² for regression, accuracy for the binary classifier (output > 0 is class 1)."""
    return score_output(network.predict(X), y, loss)


def score_output(out, y, loss):
    """:func:`score` from the network's outputs ``out`` on ``X``."""
    if loss == "log_loss":
        return float(np.mean((out > 0) == (y == 1)))
    return float(1 - np.mean((out - y) ** 2) / np.var(y))


def objective(network, X, y, loss, alpha):
    target = np.where(y == 1, 1.0, -1.0) if loss == "log_loss" else y
    return network.objective(X, target, alpha, loss=loss)


def run_convex(X, X_test, y, y_test, loss, alpha, hidden_bias, arrangements, random_state=0):
    Estimator = ConvexReLUClassifier if loss == "log_loss" else ConvexReLURegressor
    start = time.perf_counter()
    model = Estimator(alpha=alpha, loss=loss, hidden_bias=hidden_bias, arrangements=arrangements,
                      random_state=random_state).fit(X, y)
    seconds = time.perf_counter() - start
    network = model.network_
    if loss == "log_loss":  # the decision function is the network's output
        assert list(model.classes_) == [0, 1]
    label = "convex, default (`arrangements=\"auto\"`)" if arrangements == "auto" else f"convex, `arrangements=\"{arrangements}\"`"
    row = (label, model.n_neurons_, objective(network, X, y, loss, alpha),
           score(network, X_test, y_test, loss), None, seconds)
    return row, model


def run_adam(X, X_test, y, y_test, loss, alpha, hidden_bias, width):
    """Rows for Adam after ``ADAM_STEPS`` and after ``MORE_STEPS`` more at learning rate 1e-3, and the
    best (lowest-objective) network after ``ADAM_STEPS``."""
    target = np.where(y == 1, 1.0, -1.0) if loss == "log_loss" else y
    options = dict(tol=1e-10, loss=loss, hidden_bias=hidden_bias)

    def row(label, fits, seconds):
        objectives = [fit.objective for fit in fits]
        scores = [score(fit.network, X_test, y_test, loss) for fit in fits]
        best = int(np.argmin(objectives))
        return (label, width, objectives[best], scores[best], float(np.median(scores)), seconds), fits[best].network

    start = time.perf_counter()
    adam = [train_nonconvex(X, target, alpha, width, optimizer="adam", max_iter=ADAM_STEPS, random_state=seed,
                            **options) for seed in range(SEEDS)]
    adam_row, network = row(f"full-batch Adam on (NC), {ADAM_STEPS} steps, {SEEDS} seeds", adam,
                            time.perf_counter() - start)
    start = time.perf_counter()
    continued = [train_nonconvex(X, target, alpha, width, optimizer="adam", learning_rate=1e-3, max_iter=MORE_STEPS,
                                 init=fit.network, **options) for fit in adam]
    continued_row, _ = row(f"the same runs continued for {MORE_STEPS} Adam steps at learning rate 1e-3", continued,
                           time.perf_counter() - start)
    return [adam_row, continued_row], network


def bootstrap_difference(first, second, X_test, y_test, loss):
    """Test score of ``first`` minus that of ``second`` and its 95 % paired bootstrap interval."""
    rng = np.random.default_rng(0)
    out_first, out_second = first.predict(X_test), second.predict(X_test)
    differences = []
    for _ in range(BOOTSTRAP):
        index = rng.integers(0, len(y_test), len(y_test))
        differences.append(score_output(out_first[index], y_test[index], loss)
                           - score_output(out_second[index], y_test[index], loss))
    low, high = np.percentile(differences, [2.5, 97.5])
    return score_output(out_first, y_test, loss) - score_output(out_second, y_test, loss), low, high


def run_mlp(X, X_test, y, y_test, loss, alpha, hidden_bias, width):
    MLP = MLPClassifier if loss == "log_loss" else MLPRegressor
    rows, start = [], time.perf_counter()
    for seed in range(SEEDS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = MLP(hidden_layer_sizes=(width,), alpha=len(y) * alpha, solver="lbfgs", max_iter=5000,
                      random_state=seed).fit(X, y)
        network = TwoLayerReLUNetwork.from_mlp(mlp)
        rows.append((objective(network, X, y, loss, alpha), score(network, X_test, y_test, loss)))
    seconds = time.perf_counter() - start
    objectives, scores = zip(*rows)
    best = int(np.argmin(objectives))
    return (f"scikit-learn {MLP.__name__} (L-BFGS, unpenalised biases), {SEEDS} seeds", width, objectives[best],
            scores[best], float(np.median(scores)), seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 10-feature teacher, width 50")
    args = parser.parse_args()
    global WIDTHS
    lines = ["# Quality of the default fit against gradient training", "", f"Machine: {machine()}.", "",
             f"Adam: learning rate 1e-2, {ADAM_STEPS} full-batch steps. Objective = (NC) of SPEC §1 with the "
             "hidden bias penalised; score = R² (regression) or accuracy (classification) on held-out data.", ""]
    selected = problems()
    if args.quick:
        WIDTHS = (50,)
        selected = dict(list(selected.items())[:1])
    for name, (X, X_test, y, y_test, loss, alpha, hidden_bias) in selected.items():
        print(f"== {name}, loss={loss}, alpha={alpha:g}, hidden_bias={hidden_bias}", flush=True)
        default, model = run_convex(X, X_test, y, y_test, loss, alpha, hidden_bias, "auto")
        sampled, _ = run_convex(X, X_test, y, y_test, loss, alpha, hidden_bias, "sample")
        rows, adam_networks = [default, sampled], {}
        for width in WIDTHS:
            adam_rows, adam_networks[width] = run_adam(X, X_test, y, y_test, loss, alpha, hidden_bias, width)
            rows += adam_rows
            rows.append(run_mlp(X, X_test, y, y_test, loss, alpha, hidden_bias, width))
        best_adam, best_adam_score, best_width = min((row[2], row[3], row[1]) for row in rows
                                                     if row[0].startswith("full-batch"))
        difference, low, high = bootstrap_difference(model.network_, adam_networks[best_width], X_test, y_test, loss)
        lines += [f"## {name}", "", f"loss `{loss}`, alpha = {alpha:g}, hidden bias {hidden_bias}; "
                  f"default fit: {model.certificate_.coverage}; relative gap "
                  f"{model.certificate_.relative_gap:.1e}.", "",
                  "| method | width | train objective (best) | test score (best run) | test score (median) | time (s) |",
                  "|---|---|---|---|---|---|"]
        for method, width, obj, test, median, seconds in rows:
            median_text = "" if median is None else f"{median:.4f}"
            lines.append(f"| {method} | {width} | {obj:.6g} | {test:.4f} | {median_text} | {seconds:.1f} |")
            print(lines[-1], flush=True)
        verdict_obj = "≤" if default[2] <= best_adam else ">"
        verdict_score = "≥" if default[3] >= best_adam_score else "<"
        lines += ["", f"Default fit objective {default[2]:.6g} {verdict_obj} best Adam {best_adam:.6g}; its test "
                  f"score {default[3]:.4f} {verdict_score} that of the best Adam run {best_adam_score:.4f} "
                  f"(difference {difference:+.4f}, 95 % paired bootstrap interval [{low:+.4f}, {high:+.4f}]).", ""]
        print(lines[-2], flush=True)
    if not args.quick:
        write_results(RESULTS, lines)


if __name__ == "__main__":
    main()
