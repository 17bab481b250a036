"""Small, session-scoped fixtures shared by the test modules."""

import os

import numpy as np
import pytest

# keep TensorFlow's thread pools small and its start-up quiet on CI's 2 cores
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def planted():
    """A planted low-rank ratings table split into train and held-out rows.

    Held-out rows only use users and items that also appear in training, so
    a model that recovered the structure must beat the global mean on them.
    """
    from skembrec.datasets import make_ratings

    bunch = make_ratings(
        n_users=300, n_items=150, n_ratings=24_000, n_factors=4, noise=0.3,
        discrete=False, random_state=0,
    )
    frame = bunch.frame
    rng = np.random.default_rng(0)
    test = rng.random(len(frame)) < 0.1
    train = frame[~test]
    test_frame = frame[test]
    known = test_frame.user.isin(train.user) & test_frame.item.isin(train.item)
    test_frame = test_frame[known]
    cols = ["user", "item", "timestamp"]
    return (
        train[cols].to_numpy(), train.rating.to_numpy(np.float64),
        test_frame[cols].to_numpy(), test_frame.rating.to_numpy(np.float64),
    )


@pytest.fixture(scope="session")
def small_ratings():
    """A small discrete ratings table for fast API tests."""
    from skembrec.datasets import make_ratings

    return make_ratings(n_users=60, n_items=40, n_ratings=1200, random_state=1,
                        return_X_y=True)
