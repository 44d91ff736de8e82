"""Shared pieces of the benchmarks: the machine description, the planted-teacher data and the
results file."""

import datetime
import os
import platform
import subprocess

import numpy as np


def machine():
    """One line: CPU model, cores, load, date, and the versions that matter."""
    import cvxpy
    import scipy
    import sklearn

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return (
        f"{model}, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at start), "
        f"{datetime.date.today().isoformat()}; python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, cvxpy {cvxpy.__version__}"
    )


def planted_teacher(n_samples, n_features, *, width=10, noise=0.1, hidden_bias=False, seed=0):
    """``y = Σ_j a_j (w_jᵀx + b_j)_+ + noise`` for a random teacher network of ``width`` neurons.

    ``x ~ N(0, I)``, ``w_j ~ N(0, I / n_features)``, ``a_j ~ N(0, 1)``; ``b_j ~ N(0, 1)`` with a hidden
    bias, else 0. Returns ``X`` (n, p) and ``y`` (n,).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = rng.standard_normal((n_features, width)) / np.sqrt(n_features)
    b = rng.standard_normal(width) if hidden_bias else np.zeros(width)
    a = rng.standard_normal(width)
    return X, np.maximum(X @ W + b, 0) @ a + noise * rng.standard_normal(n_samples)


def write_results(path, lines):
    """Write the Markdown ``lines`` to ``path`` (creating its folder) and say so."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"wrote {path}")
