"""The one Adam trainer (pattern search seeds, landscape trainer) against the textbook recurrence."""

import numpy as np

from sklearn_convexrelu._adam import adam


def _textbook(grad, x, n_steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, n_steps + 1):
        g = grad(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return x


def test_matches_the_textbook_recurrence():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 4))
    b = rng.standard_normal(6)
    grad = lambda x: A.T @ (A @ x - b)  # noqa: E731
    x0 = rng.standard_normal(4)
    (x,), history, n_iter, stopped = adam(lambda p: (0.5 * np.sum((A @ p[0] - b) ** 2), [grad(p[0])]), [x0], 300, 0.05)
    assert n_iter == 300 and stopped is None and len(history) == 301
    assert np.allclose(x, _textbook(grad, x0, 300, 0.05), rtol=1e-9, atol=1e-12)
    assert history[-1] < history[0]
    assert np.isclose(history[-1], 0.5 * np.sum((A @ x - b) ** 2))


def test_batch_members_stop_on_their_own():
    # two independent quadratics in one batch: the first is at its minimum from the start
    target = np.array([[0.0, 0.0], [1.0, -2.0]])
    start = np.zeros((2, 2))

    def value_and_grad(params):
        return np.sum((params[0] - target) ** 2, axis=1), [2 * (params[0] - target)]

    (x,), history, n_iter, stopped = adam(value_and_grad, [start], 50, 0.1,
                                          active=lambda grads: np.abs(grads[0]).max(axis=1) > 1e-12)
    assert n_iter == 50 and list(stopped) == [True, False]
    assert np.array_equal(x[0], [0.0, 0.0])  # never moved
    textbook = _textbook(lambda z: 2 * (z - target[1]), start[1], 50, 0.1)
    assert np.allclose(x[1], textbook, rtol=1e-9)
