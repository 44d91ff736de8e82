"""Cross-validated estimators: ``alpha`` chosen on a regularisation path (SPEC §8).

Like :class:`~sklearn.linear_model.LassoCV`, every fold computes one path over the common grid
(one compiled program per fold) and the estimator is refitted on all the data at the best ``alpha``.

Pattern sets. The patterns of a fit are built from its training data, so each fold enumerates or
samples them on its *training* rows, exactly as the base estimator fitted on those rows would; the
refit builds them on all rows. What stays fixed across the folds and the refit is the rule that
makes them: ``arrangements="auto"`` is resolved once on all rows (enumerating on a fold but
sampling on the refit would select ``alpha`` for a different model), and sampling uses one integer
seed, so every fold and the refit draw the same Gaussian gates and keep those that give distinct
patterns on their rows. Patterns of the full data must not be reused on a fold: test rows would
shape the fold's model. Reusing a fold's patterns for the refit would lose exactness.

Scores. A fold scores, at every ``alpha``, the network of the polished solver solution
(SPEC §3.1), without the optimal-set analysis of the estimators, whose ``network_`` is the
min-norm optimal network (SPEC §5). Both are optimal, so they predict the same on the training
rows; on the test rows they agree whenever all optimal networks compute the same function.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone, is_classifier
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseConvexReLU, atomic_fit
from ._classifier import ConvexReLUClassifier, _has_probabilities
from ._path import _alpha_grid, _alpha_max, _check_alphas, _path_encoded
from ._preparation import arrangement_mode, check_sample_weight, encode_classes, encode_values, prepare
from ._regressor import ConvexReLURegressor
from ._sklearn_compat import Interval, StrOptions, _fit_context, validate_data
from .program.losses import get_loss

__all__ = ["ConvexReLUClassifierCV", "ConvexReLURegressorCV"]

# Parameters of the CV estimators handed to the paths and to the refitted estimator.
_PATH_PARAMS = (
    "loss", "n_arrangements", "max_arrangements", "hidden_bias", "fit_intercept", "solver", "tol", "max_iter",
)

# Fitted attributes of the base estimators that the CV estimators carry: those of ``estimator_``,
# the base estimator refitted at ``alpha_`` (the classifier adds ``classes_``).
_REFIT_ATTRIBUTES = (
    "network_", "coefs_", "intercepts_", "convex_solution_", "n_neurons_", "n_outputs_", "arrangements_",
    "n_arrangements_", "pattern_search_", "objective_", "certificate_", "dual_gap_", "n_iter_", "solver_",
    "optimal_set_", "invariances_",
)


def _fold_scores(estimator, X, y, Y, sample_weight, train, test, alphas, path_params, scorer, scoring_state):
    """Scores on ``test`` of the path fitted on ``train`` (one joblib task).

    The networks of the path are scored through a copy of the base ``estimator`` given the fitted
    state it predicts with (``scoring_state``, ``n_features_in_`` and each ``network_``), as
    ``LogisticRegressionCV`` scores its path.
    """
    train_weight = None if sample_weight is None else sample_weight[train]
    path = _path_encoded(X[train], Y[train], train_weight, alphas=alphas, eps=None, **path_params)
    model = clone(estimator)
    for name, value in scoring_state.items():
        setattr(model, name, value)
    model.n_features_in_ = X.shape[1]
    score_params = {} if sample_weight is None else {"sample_weight": sample_weight[test]}
    scores = []
    for network in path.networks:
        model.network_ = network
        scores.append(scorer(model, X[test], y[test], **score_params))
    return np.asarray(scores, dtype=float)


class _BaseConvexReLUCV(BaseEstimator, metaclass=ABCMeta):
    """Shared fit of the cross-validated estimators. Not for direct use.

    Built by composition, as ``LassoCV`` on ``LinearModelCV``: the subclasses add a scikit-learn
    mixin and the target handling; the model at ``alpha_`` is the base estimator
    (``_estimator_class``) refitted on all the data, kept as ``estimator_``, whose fitted
    attributes (``_refit_attributes``) are also set on the CV estimator and to which the
    prediction methods delegate.
    """

    _estimator_class = None  # ConvexReLURegressor or ConvexReLUClassifier
    _refit_attributes = _REFIT_ATTRIBUTES

    _parameter_constraints: dict = {
        **{k: v for k, v in _BaseConvexReLU._parameter_constraints.items() if k not in ("alpha", "warm_start")},
        # one pattern set serves the whole path: no pattern search (it is specific to one alpha)
        "arrangements": [StrOptions({"auto", "exact", "sample"})],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    }

    @abstractmethod
    def __init__(
        self, *, alphas, eps, cv, scoring, loss, arrangements, n_arrangements, max_arrangements,
        hidden_bias, fit_intercept, solver, tol, max_iter, random_state, verbose, n_jobs,
    ):
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.loss = loss
        self.arrangements = arrangements
        self.n_arrangements = n_arrangements
        self.max_arrangements = max_arrangements
        self.hidden_bias = hidden_bias
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    @abstractmethod
    def _validate_targets(self, X, y):
        """Validated ``X, y``, encoded targets ``Y`` and the state a base estimator predicts with."""

    def _routed_split_params(self, sample_weight, params):
        """Metadata for the splitter's ``split``, as ``LinearModelCV`` routes it."""
        if get_config().get("enable_metadata_routing", False):
            return process_routing(self, "fit", sample_weight=sample_weight, **params).splitter.split
        if params:
            raise ValueError(
                f"Passing extra keyword arguments to {type(self).__name__}.fit is only supported if "
                "enable_metadata_routing=True, which you can set using `sklearn.set_config`. "
                f"Extra parameters passed are: {set(params)}"
            )
        return Bunch()

    def _pattern_rule(self, X, sample_weight):
        """One pattern rule for every fold and the refit (see the module docstring).

        ``"auto"`` is resolved on the rows of positive weight, and the seed drawn once (an int
        ``random_state`` is kept, so that the base estimator with it draws the same gates).
        """
        keep = slice(None) if sample_weight is None else sample_weight > 0
        mode = arrangement_mode(
            self.arrangements, X[keep], hidden_bias=self.hidden_bias, max_arrangements=self.max_arrangements,
            beyond="sample",
        )
        seed = self.random_state
        if not isinstance(seed, Integral):
            seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        return dict(
            arrangements=mode, n_arrangements=self.n_arrangements, max_arrangements=self.max_arrangements,
            random_state=seed,
        )

    def _estimator(self, alpha, rule):
        """The base estimator with this estimator's parameters and pattern rule at ``alpha``."""
        params = {name: getattr(self, name) for name in _PATH_PARAMS}
        return self._estimator_class(
            alpha=alpha, arrangements=rule["arrangements"], random_state=rule["random_state"],
            verbose=self.verbose, n_jobs=self.n_jobs, **params,
        )

    def _alphas_grid(self, X, Y, sample_weight, rule):
        """The common grid, from ``alpha_max`` of all the data when ``alphas`` is an int."""
        if not isinstance(self.alphas, Integral):
            return _check_alphas(self.alphas)
        X_aug, arrangements, Y_fit, s = prepare(X, Y, sample_weight, hidden_bias=self.hidden_bias, **rule)
        loss = get_loss(self.loss, Y.shape[1])
        alpha_max = _alpha_max(X_aug, arrangements.patterns, Y_fit, s, loss, self.fit_intercept)
        return _alpha_grid(alpha_max, self.alphas, self.eps)

    @atomic_fit  # a failed fit (a fold, the refit, Ctrl-C) keeps the previous fitted state
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose ``alpha`` by cross-validation on the path, then refit on all the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values (class labels for the classifier).
        sample_weight : array-like of shape (n_samples,), default=None
            Used for the fits on the training folds and the refit, and passed to the scorer on
            the test folds.
        **params : dict
            Parameters passed to the CV splitter. Only available if
            ``enable_metadata_routing=True`` (see ``sklearn.set_config``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        split_params = self._routed_split_params(sample_weight, params)
        X, y, Y, scoring_state = self._validate_targets(X, y)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        folds = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y, **split_params))
        rule = self._pattern_rule(X, sample_weight)
        alphas = self._alphas_grid(X, Y, sample_weight, rule)
        path_params = dict(
            **rule, loss=self.loss, hidden_bias=self.hidden_bias, fit_intercept=self.fit_intercept,
            solver=self.solver, tol=self.tol, max_iter=self.max_iter, n_jobs=1, verbose=max(0, self.verbose - 1),
        )
        estimator = self._estimator(alphas[0], rule)
        scorer = check_scoring(estimator, scoring=self.scoring)
        scores = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_scores)(
                estimator, X, y, Y, sample_weight, train, test, alphas, path_params, scorer, scoring_state,
            )
            for train, test in folds
        )
        score_path = np.column_stack(scores)  # (n_alphas, n_folds)
        best = int(np.argmax(score_path.mean(axis=1)))  # ties: the larger alpha (first in the grid)
        self.estimator_ = self._estimator(alphas[best], rule).fit(X, y, sample_weight=sample_weight)
        for name in self._refit_attributes:  # the refitted model's fitted attributes, listed above
            setattr(self, name, getattr(self.estimator_, name))
        self.alpha_ = float(alphas[best])
        self.alphas_ = alphas
        self.score_path_ = score_path
        return self

    def _checked(self, X):
        """``X`` validated against the data of :meth:`fit` (the refitted model saw it as an array)."""
        check_is_fitted(self)
        return validate_data(self, X, reset=False)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` metadata to the splitter's ``split``.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=check_cv(self.cv), method_mapping=MethodMapping().add(caller="fit", callee="split"))
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class ConvexReLURegressorCV(RegressorMixin, _BaseConvexReLUCV):
    """Convex two-layer ReLU regression with ``alpha`` chosen by cross-validation.

    Every fold solves the whole grid on one compiled program (see :func:`convex_relu_path`);
    the best ``alpha`` (highest mean test score) is refitted on all the data with
    :class:`ConvexReLURegressor`, kept as :attr:`estimator_`: this estimator carries its fitted
    attributes and predicts with it. The landscape tools (:mod:`sklearn_convexrelu.landscape`)
    accept it and examine the objective at ``alpha_``.

    Parameters
    ----------
    alphas : int or array-like, default=100
        Number of ``alpha`` values on the grid from ``alpha_max`` (the exact smallest ``alpha``
        at which the zero network is optimal on all the data, SPEC §4) down to
        ``eps * alpha_max``, or the values themselves.
    eps : float, default=1e-3
        Length of the path, ``alpha_min / alpha_max``. Ignored if ``alphas`` is an array.
    cv : int, cross-validation generator or iterable, default=None
        Splitting strategy, as in ``GridSearchCV``: ``None`` is 5-fold (stratified for the
        classifier), an int the number of folds.
    scoring : str, callable or None, default=None
        Score maximised over the grid (mean over folds). ``None`` uses the estimator's
        ``score`` (R²), so that ``alpha_`` agrees with ``GridSearchCV`` over the same grid
        and folds.
    loss : {"squared_error"}, default="squared_error"
        The training loss, as in :class:`ConvexReLURegressor`.
    arrangements : {"auto", "exact", "sample"}, default="auto"
        How activation patterns are obtained; ``"auto"`` is resolved once on all the data and
        used in every fold and in the refit. Each fold builds its patterns on its training rows.
        Unlike the base estimators, ``"auto"`` *samples* beyond exact enumeration: one pattern
        set serves the whole path of ``alpha`` values, while a pattern search is specific to one
        ``alpha``. For the searched default at the selected ``alpha``, refit the base estimator.
    n_arrangements : int, default=100
        Number of Gaussian gates drawn when sampling.
    max_arrangements : int, default=2000
        Largest bound on the number of patterns for which ``"auto"`` enumerates exactly.
    hidden_bias : bool, default=True
        Whether the hidden neurons have a (penalised) bias.
    fit_intercept : bool, default=True
        Whether to fit the unpenalised output intercept.
    solver : {"auto", "cvxpy", "first_order"}, default="auto"
        As in :class:`ConvexReLURegressor`, for every point of every path and the refit.
    tol : float, default=1e-6
        Relative duality-gap tolerance, as in :class:`ConvexReLURegressor`, for every point of
        every path and the refit.
    max_iter : int, default=1000
        As in :class:`ConvexReLURegressor`, for every point of every path and the refit.
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling. Resolved to one integer used by every fold and the refit,
        so they draw the same Gaussian gates.
    verbose : int, default=0
        Verbosity of the path solves.
    n_jobs : int, default=None
        Number of folds computed in parallel through joblib (``sklearn.utils.parallel``), so a
        ``joblib.parallel_backend("dask")`` context distributes them on a dask cluster.

    Attributes
    ----------
    alpha_ : float
        The chosen ``alpha``.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, in decreasing order.
    score_path_ : ndarray of shape (n_alphas, n_folds)
        Test score of every ``alpha`` on every fold (higher is better).
    estimator_ : ConvexReLURegressor
        The base estimator refitted at ``alpha_`` on all the data; :meth:`predict` and
        :meth:`score` use it.
    network_ : TwoLayerReLUNetwork
        ``estimator_.network_``, the min-norm optimal network at ``alpha_``.
    coefs_ : list of ndarray
        ``[W (n_features_in_, n_neurons_), A (n_neurons_, n_outputs_)]``.
    intercepts_ : list of ndarray
        ``[b (n_neurons_,), c (n_outputs_,)]``.
    convex_solution_ : ConvexSolution
    n_neurons_ : int
    n_outputs_ : int
    arrangements_ : Arrangements
        The patterns of the refit (built on all the data by the rule used in every fold).
    n_arrangements_ : int
    pattern_search_ : None
        Always ``None`` (no pattern search: the folds and the refit share one pattern rule).
    objective_ : float
        Training objective of :attr:`network_` at ``alpha_``.
    certificate_ : Certificate
    dual_gap_ : float
    n_iter_ : int
    solver_ : str
    optimal_set_ : OptimalSet
    invariances_ : Invariances
        As in :class:`ConvexReLURegressor`: the attributes of :attr:`estimator_`.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    ConvexReLURegressor : The estimator at a fixed ``alpha``.
    convex_relu_path : The path computed on every fold.
    sklearn.linear_model.LassoCV : The same design for the Lasso.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(20, 1))
    >>> y = np.abs(X[:, 0]) + 0.05 * rng.randn(20)
    >>> reg = ConvexReLURegressorCV(alphas=5, cv=3).fit(X, y)
    >>> reg.score_path_.shape
    (5, 3)
    >>> bool(reg.alpha_ in reg.alphas_)
    True
    """

    _estimator_class = ConvexReLURegressor
    _parameter_constraints = {**_BaseConvexReLUCV._parameter_constraints, "loss": [StrOptions({"squared_error"})]}

    def __init__(
        self, *, alphas=100, eps=1e-3, cv=None, scoring=None, loss="squared_error", arrangements="auto",
        n_arrangements=100, max_arrangements=2000, hidden_bias=True, fit_intercept=True, solver="auto",
        tol=1e-6, max_iter=1000, random_state=None, verbose=0, n_jobs=None,
    ):
        super().__init__(
            alphas=alphas, eps=eps, cv=cv, scoring=scoring, loss=loss, arrangements=arrangements,
            n_arrangements=n_arrangements, max_arrangements=max_arrangements, hidden_bias=hidden_bias,
            fit_intercept=fit_intercept, solver=solver, tol=tol, max_iter=max_iter,
            random_state=random_state, verbose=verbose, n_jobs=n_jobs,
        )

    def _validate_targets(self, X, y):
        """Validated ``X, y``, encoded targets and the state :meth:`predict` needs."""
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, ensure_min_samples=1)
        return X, y, encode_values(y), {"_y_1d": y.ndim == 1}

    def predict(self, X):
        """Predict with the network refitted at ``alpha_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        X = self._checked(X)
        return self.estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class ConvexReLUClassifierCV(ClassifierMixin, _BaseConvexReLUCV):
    """Convex two-layer ReLU classifier with ``alpha`` chosen by cross-validation.

    Every fold solves the whole grid on one compiled program (see :func:`convex_relu_path`);
    the best ``alpha`` (highest mean test score, accuracy by default) is refitted on all the data
    with :class:`ConvexReLUClassifier`, whose fitted attributes this estimator carries.

    Parameters
    ----------
    alphas : int or array-like, default=100
        Number of ``alpha`` values on the grid from ``alpha_max`` (the exact smallest ``alpha``
        at which the zero network is optimal on all the data, SPEC §4) down to
        ``eps * alpha_max``, or the values themselves.
    eps : float, default=1e-3
        Length of the path, ``alpha_min / alpha_max``. Ignored if ``alphas`` is an array.
    cv : int, cross-validation generator or iterable, default=None
        Splitting strategy, as in ``GridSearchCV``: ``None`` is 5-fold (stratified for the
        classifier), an int the number of folds.
    scoring : str, callable or None, default=None
        Score maximised over the grid (mean over folds). ``None`` uses the estimator's
        ``score`` (accuracy), so that ``alpha_`` agrees with ``GridSearchCV`` over the same grid
        and folds.
    loss : {"log_loss", "squared_error"}, default="log_loss"
        The training loss, as in :class:`ConvexReLUClassifier`.
    arrangements : {"auto", "exact", "sample"}, default="auto"
        As in :class:`ConvexReLURegressorCV`.
    n_arrangements : int, default=100
        As in :class:`ConvexReLURegressorCV`.
    max_arrangements : int, default=2000
        As in :class:`ConvexReLURegressorCV`.
    hidden_bias : bool, default=True
        As in :class:`ConvexReLURegressorCV`.
    fit_intercept : bool, default=True
        As in :class:`ConvexReLURegressorCV`.
    solver : {"auto", "cvxpy", "first_order"}, default="auto"
        As in :class:`ConvexReLURegressorCV`.
    tol : float, default=1e-6
        As in :class:`ConvexReLURegressorCV`.
    max_iter : int, default=1000
        As in :class:`ConvexReLURegressorCV`.
    random_state : int, RandomState instance or None, default=None
        As in :class:`ConvexReLURegressorCV`.
    verbose : int, default=0
        As in :class:`ConvexReLURegressorCV`.
    n_jobs : int, default=None
        As in :class:`ConvexReLURegressorCV`.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
    score_path_ : ndarray of shape (n_alphas, n_folds)
        As in :class:`ConvexReLURegressorCV`.
    estimator_ : ConvexReLUClassifier
        The base estimator refitted at ``alpha_`` on all the data; :meth:`predict`,
        :meth:`decision_function`, :meth:`predict_proba` and :meth:`score` use it.
    classes_ : ndarray of shape (n_classes,)
    network_, coefs_, intercepts_, convex_solution_, n_neurons_, n_outputs_, arrangements_, \
    n_arrangements_, pattern_search_, objective_, certificate_, dual_gap_, n_iter_, solver_, \
    optimal_set_, invariances_
        The attributes of :attr:`estimator_`, as in :class:`ConvexReLURegressorCV`.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has feature names that are all strings.

    See Also
    --------
    ConvexReLUClassifier : The estimator at a fixed ``alpha``.
    sklearn.linear_model.LogisticRegressionCV : The same design for logistic regression.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLUClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(24, 1))
    >>> y = (np.abs(X[:, 0]) > 0.5).astype(int)
    >>> clf = ConvexReLUClassifierCV(alphas=[0.3, 0.1, 0.05], cv=3).fit(X, y)
    >>> clf.score_path_.shape
    (3, 3)
    """

    _estimator_class = ConvexReLUClassifier

    def __init__(
        self, *, alphas=100, eps=1e-3, cv=None, scoring=None, loss="log_loss", arrangements="auto",
        n_arrangements=100, max_arrangements=2000, hidden_bias=True, fit_intercept=True, solver="auto",
        tol=1e-6, max_iter=1000, random_state=None, verbose=0, n_jobs=None,
    ):
        super().__init__(
            alphas=alphas, eps=eps, cv=cv, scoring=scoring, loss=loss, arrangements=arrangements,
            n_arrangements=n_arrangements, max_arrangements=max_arrangements, hidden_bias=hidden_bias,
            fit_intercept=fit_intercept, solver=solver, tol=tol, max_iter=max_iter,
            random_state=random_state, verbose=verbose, n_jobs=n_jobs,
        )

    _refit_attributes = (*_REFIT_ATTRIBUTES, "classes_")

    def _validate_targets(self, X, y):
        """Validated ``X, y``, ±1 / one-hot targets over ``classes_`` and the state :meth:`predict` needs."""
        X, y = validate_data(self, X, y, ensure_min_samples=1)
        classes, Y = encode_classes(y)  # SPEC §9
        return X, y, Y, {"classes_": classes}

    def decision_function(self, X):
        """Network outputs of the model refitted at ``alpha_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Shape (n_samples,) for two classes (positive means ``classes_[1]``).
        """
        X = self._checked(X)
        return self.estimator_.decision_function(X)

    def predict(self, X):
        """Predicted class labels of the model refitted at ``alpha_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        X = self._checked(X)
        return self.estimator_.predict(X)

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities of the model refitted at ``alpha_`` (``loss="log_loss"`` only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        X = self._checked(X)
        return self.estimator_.predict_proba(X)

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
        X = self._checked(X)
        return self.estimator_.predict_log_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
