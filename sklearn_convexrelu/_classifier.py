"""ConvexReLUClassifier: two-layer ReLU classifiers fitted to global optimality."""

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if

from ._base import _BaseConvexReLU, atomic_fit
from ._preparation import encode_classes
from ._sklearn_compat import _fit_context, validate_data


def _has_probabilities(estimator):
    if estimator.loss != "log_loss":
        raise AttributeError(f"predict_proba is only available for loss='log_loss', not {estimator.loss!r}.")
    return True


class ConvexReLUClassifier(ClassifierMixin, _BaseConvexReLU):
    """Two-layer ReLU network classifier trained by solving its convex reformulation.

    Binary problems use one output and the logistic loss ``log(1 + exp(−ỹ f(x)))`` with
    ``ỹ ∈ {−1, +1}`` (``loss="log_loss"``) or the squared loss on ±1 (``loss="squared_error"``).
    With K > 2 classes every neuron feeds exactly one of K outputs (a block-sparse second layer)
    and the loss is the softmax cross-entropy, or the squared loss on one-hot targets: this is the
    exact convex program of networks with a block-sparse second layer, not of a fully connected
    vector-output network. The objective is

        (1/n) Σ_i s_i ℓ(f(x_i), y_i) + (alpha/2) Σ_j (‖w_j‖² + ‖a_j‖²).

    Parameters
    ----------
    alpha : float, default=1e-3
        Weight-decay strength, > 0, scaled like ``Lasso`` (independent of the number of samples).
    loss : {"log_loss", "squared_error"}, default="log_loss"
        The logistic (softmax with several classes) loss, or the squared loss on ±1 or one-hot
        targets.
    arrangements : {"auto", "exact", "sample", "search"}, default="auto"
        See :class:`ConvexReLURegressor`: ``"auto"`` enumerates all patterns when their number is
        small and otherwise runs a pattern search seeded by ``n_arrangements`` Gaussian gates and a
        gradient-descent network.
    n_arrangements : int, default=100
        Number of Gaussian gates drawn when sampling, and at the start of a search.
    max_arrangements : int, default=2000
        Largest bound on the number of patterns for which ``"auto"`` enumerates exactly, and the
        most patterns a search collects.
    hidden_bias : bool, default=True
        Whether the hidden neurons have a (penalised) bias, i.e. ``X̃ = [X, 1]``.
    fit_intercept : bool, default=True
        Whether to fit the unpenalised output intercepts.
    solver : {"auto", "cvxpy", "first_order"}, default="auto"
        See :class:`ConvexReLURegressor`; ``"auto"`` uses the first-order solver for ``log_loss``
        (Clarabel's exponential cones are inaccurate at small ``alpha``) and for large programs.
    tol : float, default=1e-6
        Relative duality-gap tolerance of the solve and of :attr:`certificate_`.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    warm_start : bool, default=False
        Reuse the previous fit's pattern generators (the patterns are recomputed on the new data).
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling. Fix it for bit-identical refits.
    verbose : int, default=0
        Verbosity, as in :class:`ConvexReLURegressor`.
    n_jobs : int, default=None
        BLAS threads of the fit (``None``: one, as ``n_jobs=None`` means one job in scikit-learn;
        ``-1``: BLAS's default, all cores). The limit is process-wide and taken once around the
        whole fit, so fits running concurrently in threads give the results of sequential ones.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    network_ : TwoLayerReLUNetwork
        The min-norm optimal network (the canonical choice, see :class:`ConvexReLURegressor`);
        one output for binary problems (the decision function), ``n_classes`` otherwise.
    coefs_, intercepts_ : list of ndarray
        ``MLPClassifier``'s layout.
    convex_solution_, n_neurons_, n_outputs_, arrangements_, n_arrangements_, pattern_search_, objective_,
    certificate_, dual_gap_, n_iter_, solver_, n_features_in_, feature_names_in_
        As in :class:`ConvexReLURegressor`.
    optimal_set_ : OptimalSet
        Every optimal network over the patterns used (SPEC §5), as in
        :class:`ConvexReLURegressor`; with several classes the atoms are per class, and with the
        softmax loss the optimal prediction is unique up to a constant added to every class.
    invariances_ : Invariances
        The transformations that map optimal networks to optimal networks (SPEC §5.1).

    See Also
    --------
    ConvexReLURegressor : The regression counterpart.
    sklearn.neural_network.MLPClassifier : The same model trained by gradient methods.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLUClassifier
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0], [3.0], [-3.0]])
    >>> y = np.array([1, 0, 0, 1, 1, 1])
    >>> clf = ConvexReLUClassifier(alpha=1e-3).fit(X, y)
    >>> clf.predict(X)
    array([1, 0, 0, 1, 1, 1])
    """

    def __init__(
        self, alpha=1e-3, *, loss="log_loss", arrangements="auto", n_arrangements=100,
        max_arrangements=2000, hidden_bias=True, fit_intercept=True, solver="auto", tol=1e-6,
        max_iter=1000, warm_start=False, random_state=None, verbose=0, n_jobs=None,
    ):
        super().__init__(
            alpha, loss=loss, arrangements=arrangements, n_arrangements=n_arrangements,
            max_arrangements=max_arrangements, hidden_bias=hidden_bias, fit_intercept=fit_intercept,
            solver=solver, tol=tol, max_iter=max_iter, warm_start=warm_start,
            random_state=random_state, verbose=verbose, n_jobs=n_jobs,
        )

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the globally optimal classifier over the chosen activation patterns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Rescaled to sum to the number of samples; zero-weight samples are dropped.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, ensure_min_samples=1)
        classes, Y = encode_classes(y)  # ±1 (classes_[1] positive) or one-hot (SPEC §9)
        fitted = self._fit_encoded(X, Y, sample_weight)
        vars(self).update(fitted, classes_=classes)  # all at once: a failed fit changes nothing
        return self

    def decision_function(self, X):
        """Network outputs, the decision scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Shape (n_samples,) for two classes (positive means ``classes_[1]``), else one score per
            class.
        """
        out = self._output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities (``loss="log_loss"`` only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1 - p, p])
        return softmax(scores, axis=1)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``loss="log_loss"`` only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        scores = self.decision_function(X)  # log-sigmoid / log-softmax: finite where proba rounds to 0
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
