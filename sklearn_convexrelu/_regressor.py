"""ConvexReLURegressor: least-squares two-layer ReLU networks fitted to global optimality."""

from sklearn.base import RegressorMixin

from ._base import _BaseConvexReLU, atomic_fit
from ._preparation import encode_values
from ._sklearn_compat import StrOptions, _fit_context


class ConvexReLURegressor(RegressorMixin, _BaseConvexReLU):
    """Two-layer ReLU network regression trained by solving its convex reformulation.

    Minimises the regularised objective of a two-layer ReLU network of any width,

        (1/2n) Σ_i s_i (f(x_i) − y_i)² + (alpha/2) Σ_j (‖w_j‖² + a_j²),
        f(x) = Σ_j a_j (wⱼᵀx + b_j)_+ + c,

    through the equivalent convex group lasso over the activation patterns of the data (the cones
    of the hyperplane arrangement). With all patterns (``arrangements="exact"``, feasible when the
    data have small rank) the fitted network is a certified global minimum; with sampled patterns
    it is optimal among networks using those patterns, and :attr:`certificate_` says so.

    Relation to ``MLPRegressor(hidden_layer_sizes=(m,), activation="relu", alpha=A)``: with
    ``hidden_bias=False``, ``fit_intercept=False`` and ``m`` at least :attr:`n_neurons_`, the two
    objectives coincide when ``A = n_samples * alpha``.

    Parameters
    ----------
    alpha : float, default=1e-3
        Weight-decay strength, > 0. Scaled like ``Lasso``: it means the same for any number of
        samples (and any cross-validation fold).
    loss : {"squared_error"}, default="squared_error"
        The training loss ``½ (f(x) − y)²``.
    arrangements : {"auto", "exact", "sample", "search"}, default="auto"
        How activation patterns are obtained: ``"exact"`` enumerates all of them (polynomial in
        n for fixed data rank, exponential in the rank); ``"sample"`` draws ``n_arrangements``
        Gaussian gates; ``"search"`` starts from ``n_arrangements`` Gaussian gates and the
        patterns of a quick gradient-descent network (the fit is never worse than that network),
        then adds patterns that violate the dual constraints, found by gradient ascent and by
        gradient steps from the solution, and re-solves until none is found
        (:func:`~sklearn_convexrelu.pattern_search.search_arrangements`); ``"auto"`` enumerates
        when the bound on their number is at most ``max_arrangements`` and searches otherwise.
        Only ``"exact"`` patterns give a global certificate; the others certify the optimum over
        the patterns used (:attr:`certificate_` says which).
    n_arrangements : int, default=100
        Number of Gaussian gates drawn when sampling, and at the start of a search.
    max_arrangements : int, default=2000
        Largest bound on the number of patterns for which ``"auto"`` enumerates exactly, and the
        most patterns a search collects.
    hidden_bias : bool, default=True
        Whether the hidden neurons have a (penalised) bias, i.e. ``X̃ = [X, 1]``.
    fit_intercept : bool, default=True
        Whether to fit the unpenalised output intercept ``c``.
    solver : {"auto", "cvxpy", "first_order"}, default="auto"
        ``"cvxpy"`` solves with Clarabel (SCS as the fallback), to interior-point precision.
        ``"first_order"`` is the package's own working-set solver (numpy/scipy, only matrix
        products with the data and small dense subproblems), stopped when the certified relative
        duality gap is at most ``tol``; it scales to large programs and handles ``log_loss``
        precisely. ``"auto"`` uses cvxpy for the squared loss on exact or sampled patterns when the
        program has at most 8,000 cone rows (``2 · n_samples · n_patterns · n_outputs``), and the
        first-order solver otherwise (including after a pattern search, whose solver already holds
        the solution).
    tol : float, default=1e-6
        Relative duality-gap tolerance of the solve and of :attr:`certificate_`.
    max_iter : int, default=1000
        Maximum number of solver iterations (interior-point iterations for cvxpy, working-set
        iterations for the first-order solver).
    warm_start : bool, default=False
        Reuse the previous fit's pattern generators (the patterns are recomputed on the new data).
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling. Fix it for bit-identical refits.
    verbose : int, default=0
        1 prints a summary of the fit and the progress of the first-order solver (iteration,
        objective, gap, active patterns, elapsed time) and of a pattern search; 2 also cvxpy's
        log and the solver iterations inside a pattern search.
    n_jobs : int, default=None
        Number of BLAS threads of the fit (``None``: one, as ``n_jobs=None`` means one job in
        scikit-learn; ``-1``: BLAS's default, all cores). The limit is process-wide and taken once
        around the whole fit, so fits running concurrently in threads give the results of
        sequential ones.

    Attributes
    ----------
    network_ : TwoLayerReLUNetwork
        The fitted network: the min-norm optimal network of :attr:`optimal_set_` (one neuron per
        atom with a positive coefficient). It is the canonical choice because it is unique, so it
        does not depend on the solver, on its starting point or on the order of the patterns, and
        it keeps every symmetry of the data; it merges the duplicate blocks a solver spreads over
        neighbouring cones into one neuron per atom. For the fewest neurons use
        ``optimal_set_.minimal_network()``. (It is the solver's network when the optimal set
        cannot reproduce the solver's objective within ``tol``, e.g. after a
        ``ConvergenceWarning``, and an ``OptimalSetWarning`` says so; and, silently, when the
        min-norm network is within ``tol`` of the solver's but would leave the certified gap
        above ``tol``.)
    coefs_ : list of ndarray
        ``[W (n_features_in_, n_neurons_), A (n_neurons_, n_outputs_)]``, ``MLPRegressor``'s layout.
    intercepts_ : list of ndarray
        ``[b (n_neurons_,), c (n_outputs_,)]``.
    convex_solution_ : ConvexSolution
        The solver's polished solution of the convex program (another point of the optimal set).
    n_neurons_ : int
    n_outputs_ : int
    arrangements_ : Arrangements
        The patterns used: generators, pattern matrix, and whether they are all patterns.
    n_arrangements_ : int
    pattern_search_ : PatternSearch or None
        What a pattern search looked at (sampled, seed and found patterns, rounds, why it
        stopped, and ``seed_objective``, which :attr:`objective_` never exceeds); ``None`` when
        the patterns were enumerated or sampled.
    objective_ : float
        Training objective of :attr:`network_` (equal to the convex objective).
    certificate_ : Certificate
        Duality gap, ``κ/alpha`` and the pattern set it covers; ``certificate_.certified`` is
        ``True`` when the fit is proven globally optimal.
    dual_gap_ : float
    n_iter_ : int
        Iterations of the solver.
    solver_ : str
        The solver actually used.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has feature names that are all strings.
    optimal_set_ : OptimalSet
        Every optimal network over the patterns used (SPEC §5): the dual vector and the optimal
        training prediction, the atoms (directions, signs, fits), the coefficient polytope
        (``dimension``, ``is_unique``), and the methods ``min_norm_network()``,
        ``minimal_network()``, ``vertices()``, ``sample()`` and ``contains()``.
    invariances_ : Invariances
        The transformations that map optimal networks to optimal networks (SPEC §5.1), each a
        method applied to a network, and ``continuous_dimension``.

    See Also
    --------
    ConvexReLUClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : The same model trained by gradient methods.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(20, 1))
    >>> y = np.abs(X[:, 0])
    >>> reg = ConvexReLURegressor(alpha=1e-3).fit(X, y)
    >>> reg.certificate_.certified
    True
    >>> reg.score(X, y) > 0.99
    True
    """

    _parameter_constraints = {**_BaseConvexReLU._parameter_constraints, "loss": [StrOptions({"squared_error"})]}

    def __init__(
        self, alpha=1e-3, *, loss="squared_error", arrangements="auto", n_arrangements=100,
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
        """Fit the globally optimal network over the chosen activation patterns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Rescaled to sum to the number of samples; zero-weight samples are dropped.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = self._validate_X_y(X, y)
        fitted = self._fit_encoded(X, encode_values(y), sample_weight)
        vars(self).update(fitted, _y_1d=y.ndim == 1)  # all at once: a failed fit changes nothing
        return self

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        out = self._output(X)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
