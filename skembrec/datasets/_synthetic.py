"""A synthetic ratings generator with the shape of real rating data."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._base import _as_output

_CHUNK = 4_000_000


def _zipf_weights(n, exponent, rng):
    """Long-tailed popularity: weight of rank r is r**-exponent, shuffled."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -float(exponent)
    rng.shuffle(weights)
    return weights / weights.sum()


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def make_ratings(
    n_users=1000,
    n_items=500,
    n_ratings=50_000,
    *,
    n_factors=8,
    factor_scale=0.5,
    bias_scale=0.4,
    noise=0.6,
    rating_scale=(1, 5),
    discrete=True,
    user_activity_exponent=0.9,
    item_popularity_exponent=1.0,
    time_range=("2000-01-01", "2005-12-31"),
    drift=0.15,
    random_state=None,
    return_X_y=False,
    as_frame=True,
):
    """Generate explicit ratings from a planted low-rank model.

    Each rating is ``clip(round(mu + b_u + b_i + p_u . q_i + drift_u * tau + e))``
    where the factors ``p_u``, ``q_i`` and biases are Gaussian, ``e`` is
    Gaussian noise and ``tau`` in [-1, 1] is the rating's position within its
    user's active period. Users are drawn with long-tailed (Zipf-like)
    activity and items with long-tailed popularity, every (user, item) pair
    occurs at most once, and timestamps fall inside a per-user active window,
    as in MovieLens and the Netflix Prize data.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 500
        Number of users and items (ids run from 1).
    n_ratings : int, default=50_000
        Number of ratings; at most ``n_users * n_items``.
    n_factors : int, default=8
        Rank of the planted interaction.
    factor_scale, bias_scale : float, default=0.5, 0.4
        Standard deviation of each factor entry and of the biases.
    noise : float, default=0.6
        Standard deviation of the Gaussian noise before rounding.
    rating_scale : tuple (low, high), default=(1, 5)
        The rating range; ratings are clipped to it.
    discrete : bool, default=True
        Round ratings to whole stars.
    user_activity_exponent, item_popularity_exponent : float
        Exponents of the Zipf-like laws of activity and popularity.
    time_range : tuple of two dates, default=("2000-01-01", "2005-12-31")
        Span of the timestamps (returned as epoch seconds).
    drift : float, default=0.15
        Scale of the per-user rating drift over time.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; otherwise NumPy arrays.

    Returns
    -------
    data : Bunch or tuple
        ``frame`` has columns ``user``, ``item``, ``timestamp``, ``rating``;
        the Bunch also holds the planted ``user_factors``, ``item_factors``,
        ``user_bias``, ``item_bias`` and ``global_mean``.

    Examples
    --------
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=50, n_items=20, n_ratings=300,
    ...                     random_state=0, return_X_y=True)
    >>> X.shape, sorted(y.unique()) == [1, 2, 3, 4, 5]
    ((300, 3), True)
    """
    n_users = _check_positive_int(n_users, "n_users")
    n_items = _check_positive_int(n_items, "n_items")
    n_ratings = _check_positive_int(n_ratings, "n_ratings")
    n_factors = _check_positive_int(n_factors, "n_factors", minimum=0)
    if n_ratings > n_users * n_items:
        raise ValueError(
            f"n_ratings={n_ratings} exceeds the {n_users * n_items} distinct "
            f"(user, item) pairs of {n_users} users and {n_items} items"
        )
    low, high = (float(v) for v in rating_scale)
    if not low < high:
        raise ValueError(f"rating_scale must be (low, high) with low < high, got {rating_scale}")
    rng = check_random_state(random_state)

    user_p = _zipf_weights(n_users, user_activity_exponent, rng)
    item_p = _zipf_weights(n_items, item_popularity_exponent, rng)
    users, items = _draw_unique_pairs(n_ratings, n_users, n_items, user_p, item_p, rng)

    span = high - low
    global_mean = low + 0.6 * span
    unit = span / 4.0  # scales the model to the rating range (1 star on 1..5)
    user_bias = rng.normal(0, bias_scale * unit, n_users).astype(np.float32)
    item_bias = rng.normal(0, bias_scale * unit, n_items).astype(np.float32)
    user_factors = rng.normal(0, factor_scale, (n_users, n_factors)).astype(np.float32)
    item_factors = rng.normal(0, factor_scale, (n_items, n_factors)).astype(np.float32)
    user_drift = rng.normal(0, drift * unit, n_users).astype(np.float32)

    t0, t1 = (pd.Timestamp(t).timestamp() for t in time_range)
    total = t1 - t0
    # each user is active in a window [start, start + length] inside the range
    length = np.minimum(rng.exponential(0.25 * total, n_users), total)
    start = t0 + rng.uniform(0, 1, n_users) * (total - length)
    tau = rng.uniform(-1, 1, n_ratings)
    timestamp = (start[users] + (tau + 1) / 2 * length[users]).astype(np.int64)

    ratings = np.empty(n_ratings, dtype=np.float32)
    for lo in range(0, n_ratings, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        u, i = users[sl], items[sl]
        value = global_mean + user_bias[u] + item_bias[i]
        value += np.einsum("ij,ij->i", user_factors[u], item_factors[i]) * unit
        value += user_drift[u] * tau[sl]
        value += rng.normal(0, noise * unit, len(u))
        if discrete:
            value = low + np.round((value - low) / unit) * unit
        ratings[sl] = np.clip(value, low, high)

    frame = pd.DataFrame(
        {
            "user": users + 1,
            "item": items + 1,
            "timestamp": timestamp,
            "rating": ratings,
        }
    )
    extra = dict(
        user_factors=user_factors,
        item_factors=item_factors * np.float32(unit),
        user_bias=user_bias,
        item_bias=item_bias,
        global_mean=global_mean,
    )
    return _as_output(
        frame,
        return_X_y=return_X_y,
        as_frame=as_frame,
        extra=extra,
        descr="Synthetic ratings from skembrec.datasets.make_ratings",
    )


def _sorted_unique(a):
    # sort-based unique: much faster than np.unique's hash path on int64 keys
    a.sort()
    keep = np.empty(len(a), dtype=bool)
    keep[:1] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _draw_unique_pairs(n_ratings, n_users, n_items, user_p, item_p, rng):
    """Draw distinct (user, item) pairs with the given marginal laws."""
    keys = np.empty(0, dtype=np.int64)
    missing = n_ratings
    # collisions are rare for realistic densities; top up until we have enough
    while missing > 0:
        draw = int(missing * 1.1) + 16
        u = rng.choice(n_users, size=draw, p=user_p).astype(np.int64)
        i = rng.choice(n_items, size=draw, p=item_p).astype(np.int64)
        new = u * n_items + i
        keys = _sorted_unique(np.concatenate([keys, new]))
        missing = n_ratings - len(keys)
        if missing > 0 and draw > 50 * n_ratings:  # pragma: no cover - extreme density
            break
    if len(keys) < n_ratings:
        # very dense requests: fill with uniformly drawn unused pairs
        unused = np.setdiff1d(np.arange(n_users * n_items, dtype=np.int64), keys)
        keys = np.concatenate([keys, rng.choice(unused, n_ratings - len(keys), replace=False)])
    keys = rng.choice(keys, size=n_ratings, replace=False) if len(keys) > n_ratings else keys
    rng.shuffle(keys)
    return (keys // n_items).astype(np.int64), (keys % n_items).astype(np.int64)
