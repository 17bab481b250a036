"""Plots of fitted skembrec estimators and their predictions.

matplotlib is an optional dependency (``pip install "skembrec[plot]"``): it
is imported when a function is called, never when this module is imported,
so ``import skembrec.plotting`` works without it. Every function draws on the
``ax`` it is given (or on a new figure) and returns that Axes, so plots can
be combined in one figure and adjusted afterwards.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "plot_error_by_support",
    "plot_item_embeddings",
    "plot_learning_curve",
    "plot_rating_distributions",
]

_LABEL_SIZE = 8  # points, the font of the item labels

_LOSS_NAMES = {"squared_error": "mean squared error", "cross_entropy": "cross-entropy"}

# Upper ends of the support bins of plot_error_by_support: 0 ratings (cold
# start), 1-2, 3-5, 6-10, ... roughly logarithmic, so the long tail of rare
# users and items and the few very active ones each get readable bins.
_SUPPORT_EDGES = (0, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - tested in a subprocess
        raise ImportError(
            "skembrec.plotting needs matplotlib, which is not installed; install "
            'it with `pip install "skembrec[plot]"` (or `pip install matplotlib`)'
        ) from exc
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    else:
        _pyplot()
    return ax


def plot_learning_curve(estimator, ax=None):
    """Plot the training and validation loss of each epoch of a fitted estimator.

    Reads ``estimator.history_``: the training loss of every epoch, and the
    validation loss of the epochs that had one (``early_stopping=True``
    holds out ``validation_fraction`` of the ratings for it). A validation
    curve that turns up while the training loss keeps falling is the mark of
    over-fitting: more ``reg``, fewer epochs or early stopping help.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted :class:`~skembrec.FunkMF`, :class:`~skembrec.EmbeddingRegressor`
        or :class:`~skembrec.EmbeddingClassifier` (anything with a
        ``history_`` dict of ``"loss"`` and ``"val_loss"`` lists).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One line labelled ``"training loss"`` and, when any epoch was
        validated, one labelled ``"validation loss"`` and a vertical line
        labelled ``"best validation epoch"`` (the epoch whose weights early
        stopping keeps).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skembrec import FunkMF
    >>> from skembrec.datasets import make_ratings
    >>> from skembrec.plotting import plot_learning_curve
    >>> X, y = make_ratings(n_users=100, n_items=50, n_ratings=2000,
    ...                     random_state=0, return_X_y=True)
    >>> model = FunkMF(n_factors=4, n_epochs=4, early_stopping=True,
    ...                random_state=0).fit(X, y)
    >>> ax = plot_learning_curve(model)
    >>> [line.get_label() for line in ax.get_lines()]
    ['training loss', 'validation loss', 'best validation epoch']
    >>> len(ax.get_lines()[0].get_xdata())
    4
    """
    check_is_fitted(estimator, "history_")
    history = estimator.history_
    loss = np.asarray(history.get("loss", []), dtype=np.float64)
    if loss.size == 0:
        raise ValueError("estimator.history_ holds no epoch: fit it first")
    ax = _axes(ax)
    epochs = np.arange(1, loss.size + 1)
    ax.plot(epochs, loss, marker="o", label="training loss")
    val = [(e, v) for e, v in zip(epochs, history.get("val_loss", [])) if v is not None]
    if val:
        val_epochs, val_loss = (np.asarray(a, dtype=np.float64) for a in zip(*val))
        ax.plot(val_epochs, val_loss, marker="s", label="validation loss")
        best = int(np.argmin(val_loss))
        # early stopping keeps the weights of this epoch
        ax.axvline(val_epochs[best], color="grey", linestyle=":", linewidth=1,
                   label="best validation epoch")
    ax.set_xlabel("epoch")
    target = getattr(estimator, "_target", None)
    what = _LOSS_NAMES.get(getattr(target, "loss", None), "loss")
    ax.set_ylabel(f"loss ({what})" if what != "loss" else "loss")
    ax.set_title(f"{type(estimator).__name__}: loss per epoch")
    # epochs are whole numbers: no 2.5 on the axis
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    return ax


def _titles_lookup(titles):
    """A dict item id -> title from a dict, a Series or a ``movies`` frame."""
    if titles is None:
        return {}
    if hasattr(titles, "columns"):  # a DataFrame such as load_movielens().movies
        if not {"item", "title"} <= set(titles.columns):
            raise ValueError(
                "titles as a DataFrame needs the columns 'item' and 'title' "
                f"(as load_movielens(...).movies has), got {list(titles.columns)}"
            )
        return dict(zip(titles["item"].tolist(), titles["title"].tolist()))
    if hasattr(titles, "to_dict"):  # a Series indexed by item id
        return titles.to_dict()
    return dict(titles)


def _seen_pairs(estimator):
    """The (user, item) pairs a skembrec estimator saw in fit, or None."""
    state = vars(estimator).get("_state")
    return None if state is None else state.seen


def _item_support(estimator):
    """Training ratings of each item, in ``item_ids_`` order, if known."""
    seen = _seen_pairs(estimator)
    if seen is None:
        return None
    return np.asarray(seen.sum(axis=0)).ravel()[: estimator.n_items_]


def _pca_2d(table):
    """The first two principal components of the rows of ``table``.

    Returns the 2-D coordinates and the share of the variance each explains.
    Signs follow scikit-learn's ``svd_flip``: each component's largest
    loading is positive, so the picture does not flip between runs.
    """
    centred = table - table.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    signs[signs == 0] = 1.0
    coords = u * s * signs
    variance = s**2
    share = variance / variance.sum() if variance.sum() > 0 else np.zeros_like(variance)
    coords = np.pad(coords[:, :2], ((0, 0), (0, max(0, 2 - coords.shape[1]))))
    share = np.pad(share[:2], (0, max(0, 2 - share.size)))
    return coords, share


def plot_item_embeddings(estimator, titles=None, n_labels=20, ax=None, random_state=0):
    """Draw the item embeddings of a fitted estimator as a 2-D map.

    The rows of ``estimator.item_embeddings_`` are projected on their first
    two principal components (PCA by a NumPy SVD). Items the model places
    close together are rated alike by the same users. Points are coloured by
    the number of training ratings of the item: rarely rated items keep
    embeddings near their initial values, close to the centre.

    Parameters
    ----------
    estimator : fitted estimator
        Any fitted skembrec estimator.
    titles : mapping, pandas Series or DataFrame, default=None
        Item id -> title, used as labels; a DataFrame needs the columns
        ``item`` and ``title``, as ``load_movielens(...).movies`` has. Items
        without a title are labelled with their id.
    n_labels : int, default=20
        Number of points that get a label. They are drawn at random with
        probability proportional to their number of training ratings, so
        that mostly well-known items are named, passing over items whose
        label would overlap one already placed while others remain.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    random_state : int, RandomState instance or None, default=0
        Seeds the choice of labelled items.

    Returns
    -------
    ax : matplotlib Axes
        One scatter collection of ``n_items_`` points and ``n_labels`` text
        labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skembrec import FunkMF
    >>> from skembrec.datasets import make_ratings
    >>> from skembrec.plotting import plot_item_embeddings
    >>> X, y = make_ratings(n_users=100, n_items=50, n_ratings=2000,
    ...                     random_state=0, return_X_y=True)
    >>> model = FunkMF(n_factors=4, n_epochs=3, random_state=0).fit(X, y)
    >>> titles = {item: f"movie {item}" for item in range(1, 51)}
    >>> ax = plot_item_embeddings(model, titles=titles, n_labels=5)
    >>> len(ax.collections[0].get_offsets()), len(ax.texts)
    (50, 5)
    """
    check_is_fitted(estimator, "n_iter_")
    if isinstance(n_labels, bool) or not isinstance(n_labels, numbers.Integral) or n_labels < 0:
        raise ValueError(f"n_labels must be a non-negative int, got {n_labels!r}")
    lookup = _titles_lookup(titles)
    table = np.asarray(estimator.item_embeddings_, dtype=np.float64)
    coords, share = _pca_2d(table)
    support = _item_support(estimator)
    ax = _axes(ax)
    colour = np.log10(1 + support) if support is not None else None
    points = ax.scatter(coords[:, 0], coords[:, 1], c=colour, s=12, alpha=0.7,
                        cmap="viridis", linewidths=0)
    if colour is not None:
        bar = ax.figure.colorbar(points, ax=ax)
        bar.set_label("log10(1 + training ratings of the item)")

    n_items = len(table)
    ids = estimator.item_ids_
    labels = [str(lookup.get(_plain(item), item)) for item in ids]
    chosen = _spread_labels(ax, coords, labels, min(int(n_labels), n_items), support,
                            check_random_state(random_state))
    from matplotlib import patheffects

    # a white outline keeps the text readable over the points
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for index in chosen:
        ax.annotate(labels[index], coords[index], fontsize=_LABEL_SIZE, xytext=(3, 3),
                    textcoords="offset points", path_effects=halo)
    ax.set_xlabel(f"component 1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"component 2 ({share[1]:.0%} of variance)")
    ax.set_title(f"{type(estimator).__name__}: item embeddings "
                 f"({n_items} items, {table.shape[1]} dimensions, PCA)")
    return ax


def _spread_labels(ax, coords, labels, n_labels, support, rng):
    """Indices of the points to label: drawn by support, kept apart when possible.

    Items come in a random order weighted by their number of ratings. One
    whose label would overlap a label already placed (each label's box is
    estimated from its length, the font size and the axes' size in data
    units; text runs rightwards from its point) is passed over while others
    remain, so labels do not pile up in the dense centre of the map.
    """
    if n_labels == 0:
        return np.empty(0, dtype=int)
    weights = None
    if support is not None and support.sum() > 0:
        weights = (support + 1e-12) / (support + 1e-12).sum()
    order = rng.choice(len(coords), size=len(coords), replace=False, p=weights)

    ax.autoscale_view()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    frame = ax.get_window_extent()
    font = _LABEL_SIZE * ax.figure.dpi / 72  # pixels
    # an average character is about 0.6 em wide; a line about 1.3 em tall,
    # and the label starts 3 points right of and above its point
    char = 0.6 * font / frame.width * (x1 - x0)
    line = 1.3 * font / frame.height * (y1 - y0)
    left = coords[:, 0]
    right = left + char * (np.array([len(t) for t in labels]) + 1)
    chosen, passed = [], []
    for index in order:
        if len(chosen) == n_labels:
            break
        placed = np.asarray(chosen, dtype=int)
        clash = ((left[placed] < right[index]) & (left[index] < right[placed])
                 & (np.abs(coords[placed, 1] - coords[index, 1]) < line))
        (passed if clash.any() else chosen).append(index)
    # a crowded map: fill up with the items passed over, in their order
    chosen += passed[: n_labels - len(chosen)]
    return np.asarray(chosen, dtype=int)


def _plain(value):
    """NumPy scalars as Python values, so that dict look-ups by id match."""
    return value.item() if isinstance(value, np.generic) else value


def _ids_column(X, column):
    from ._input.ratings import RatingTable

    return RatingTable(X).ids("user" if column == 0 else "item", fitting=False)


def _support_of(ids, train_ids):
    """For each id in ``ids``, how often it occurs in ``train_ids``."""
    import pandas as pd

    counts = pd.Series(train_ids).value_counts()
    return pd.Series(ids).map(counts).fillna(0).to_numpy(np.int64)


def _support_from_fit(estimator, ids, by):
    """Support of ``ids`` from the (user, item) pairs the estimator saw in fit."""
    import pandas as pd

    seen = _seen_pairs(estimator)
    if seen is None:
        raise ValueError("pass X_train: this estimator does not record its training ratings")
    axis = 1 if by == "user" else 0
    counts = np.asarray(seen.sum(axis=axis)).ravel()
    vocab = estimator.user_ids_ if by == "user" else estimator.item_ids_
    lookup = pd.Series(counts[: len(vocab)], index=pd.Index(vocab))
    return pd.Series(ids).map(lookup).fillna(0).to_numpy(np.int64)


def _bin_labels(edges):
    labels, low = [], 0
    for high in edges:
        labels.append(str(high) if low == high else f"{low}-{high}")
        low = high + 1
    labels.append(f">{edges[-1]}")
    return labels


def plot_error_by_support(estimator, X, y, by="user", *, X_train=None, metric="rmse",
                          ax=None):
    """Plot the prediction error against how many training ratings a user or item has.

    Each test rating in ``(X, y)`` is put in a bin by the number of training
    ratings of its user (``by="user"``) or item (``by="item"``): 0 (cold
    start, the estimator's documented fallback answers), 1-2, 3-5, 6-10, ...
    One bar per non-empty bin shows the error of that bin, with the number of
    test ratings it holds written above it; a dashed line shows the overall
    error. Errors usually fall as the support grows: the left bars tell how
    much cold start costs.

    Parameters
    ----------
    estimator : fitted regressor or classifier
        A fitted skembrec estimator. A classifier's predicted class is
        compared with the true rating, so its labels must be numbers.
    X : array-like of shape (n_samples, n_features)
        Test rows (column 0 user id, column 1 item id).
    y : array-like of shape (n_samples,)
        True ratings of ``X``.
    by : {"user", "item"}, default="user"
        Whose support to count.
    X_train : array-like of shape (n_train, n_features), default=None
        The training rows the estimator was fitted on; the support is
        counted from it. When None, the (user, item) pairs the estimator
        recorded in fit are counted instead (they exclude repeated pairs).
    metric : {"rmse", "mae"}, default="rmse"
        Root mean squared or mean absolute error.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One bar per non-empty support bin, with the bin's range as tick
        label.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skembrec import FunkMF
    >>> from skembrec.datasets import make_ratings
    >>> from skembrec.plotting import plot_error_by_support
    >>> X, y = make_ratings(n_users=100, n_items=50, n_ratings=2000,
    ...                     random_state=0, return_X_y=True)
    >>> model = FunkMF(n_factors=4, n_epochs=3, random_state=0).fit(X[:1500], y[:1500])
    >>> ax = plot_error_by_support(model, X[1500:], y[1500:], by="user",
    ...                            X_train=X[:1500])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('training ratings per user', 'RMSE')
    """
    check_is_fitted(estimator, "n_iter_")
    if by not in ("user", "item"):
        raise ValueError(f'by must be "user" or "item", got {by!r}')
    if metric not in ("rmse", "mae"):
        raise ValueError(f'metric must be "rmse" or "mae", got {metric!r}')
    column = 0 if by == "user" else 1
    y_true = np.asarray(y, dtype=np.float64).ravel()
    y_pred = np.asarray(estimator.predict(X))
    if not np.issubdtype(y_pred.dtype, np.number):
        raise ValueError("the estimator predicts non-numeric labels: an error needs numbers")
    y_pred = y_pred.astype(np.float64)
    if len(y_true) != len(y_pred):
        raise ValueError(f"X has {len(y_pred)} rows but y has {len(y_true)}")
    ids = _ids_column(X, column)
    if X_train is not None:
        support = _support_of(ids, _ids_column(X_train, column))
    else:
        support = _support_from_fit(estimator, ids, by)

    # fixed bins, so that plots of two models or datasets read alike
    bins = np.searchsorted(np.asarray(_SUPPORT_EDGES), support, side="left")
    labels = _bin_labels(_SUPPORT_EDGES)

    def error(mask):
        diff = y_true[mask] - y_pred[mask]
        return float(np.sqrt(np.mean(diff**2)) if metric == "rmse" else np.mean(np.abs(diff)))

    present = np.unique(bins)
    values = [error(bins == b) for b in present]
    counts = [int(np.sum(bins == b)) for b in present]
    ax = _axes(ax)
    positions = np.arange(len(present))
    bars = ax.bar(positions, values, color="tab:blue", alpha=0.8)
    ax.bar_label(bars, labels=[f"n={c:,}" for c in counts], fontsize=8, padding=2)
    ax.axhline(error(np.ones(len(y_true), dtype=bool)), color="black", linestyle="--",
               linewidth=1, label=f"all test ratings ({len(y_true):,})")
    ax.set_xticks(positions, [labels[b] for b in present])
    if len(present) > 6:
        # long range labels such as "101-200" would run into each other
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(f"training ratings per {by}")
    ax.set_ylabel(metric.upper())
    ax.set_title(f"{type(estimator).__name__}: {metric.upper()} by {by} support")
    ax.legend(loc="upper right")
    # room for the count labels above the highest bar
    ax.set_ylim(0, max(values) * 1.15 if values and max(values) > 0 else 1)
    return ax


def plot_rating_distributions(y_true, y_pred, ax=None):
    """Compare the distribution of predicted ratings with that of the true ones.

    Both are drawn as side-by-side histograms of the share of ratings in each
    bin. Whole or half-star ratings get one bin per rating value (predictions
    fall in the bin of the nearest value); other ratings get 20 equal bins.
    A regressor trained with squared error piles its predictions up near the
    mean; a classifier's predictions land on the rating values themselves.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True ratings.
    y_pred : array-like of shape (n_samples,)
        Predicted ratings (numbers).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        Two histograms, labelled ``"actual"`` and ``"predicted"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skembrec.plotting import plot_rating_distributions
    >>> ax = plot_rating_distributions([1, 3, 4, 4, 5], [2.1, 3.2, 3.9, 4.2, 4.4])
    >>> ax.get_legend_handles_labels()[1]
    ['actual', 'predicted']
    >>> len(ax.patches)  # 5 rating values x 2 histograms
    10
    """
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.size == 0 or y_true.size != y_pred.size:
        raise ValueError(
            f"y_true and y_pred must be non-empty and of one length, got "
            f"{y_true.size} and {y_pred.size}"
        )
    values = np.unique(y_true)
    both = np.concatenate([y_true, y_pred])
    low, high = float(both.min()), float(both.max())
    if len(values) <= 20 and np.allclose(values * 2, np.round(values * 2)):
        # one bin per rating value, edges half-way between neighbours
        step = float(np.min(np.diff(values))) if len(values) > 1 else 1.0
        grid = np.arange(min(values[0], np.floor(low / step) * step),
                         max(values[-1], np.ceil(high / step) * step) + step / 2, step)
        edges = np.concatenate([grid - step / 2, [grid[-1] + step / 2]])
    else:
        edges = np.linspace(low, high if high > low else low + 1, 21)
    ax = _axes(ax)
    weights = [np.full(y_true.size, 1 / y_true.size), np.full(y_pred.size, 1 / y_pred.size)]
    ax.hist([y_true, y_pred], bins=edges, weights=weights, label=["actual", "predicted"],
            color=["tab:grey", "tab:orange"])
    ax.set_xlabel("rating")
    ax.set_ylabel("share of ratings")
    ax.set_title(f"Predicted vs actual ratings ({y_true.size:,} ratings)")
    ax.legend()
    return ax
