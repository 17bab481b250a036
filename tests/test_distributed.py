"""Hyperparameter search on Dask and Ray through joblib's backends.

The same ``GridSearchCV`` over :class:`skembrec.FunkMF` runs with the default
backend, under ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of
two worker processes, and under Ray's joblib backend; the fits are
deterministic on a CPU, so the scores must agree. Everything listens on
127.0.0.1 only. Skipped when ``dask.distributed`` (or ``ray``) is absent.
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
GRID = {"n_factors": [4, 16], "reg": [0.01, 0.1]}


def _make_search(**kwargs):
    from skembrec import FunkMF
    from skembrec.model_selection import TemporalProbeSplit

    return GridSearchCV(
        FunkMF(n_epochs=3, random_state=0),
        GRID,
        cv=TemporalProbeSplit(n_probe=2, time_column="timestamp", n_splits=2),
        scoring="neg_root_mean_squared_error",
        **kwargs,
    )


def _has_tensorflow():
    # a lambda travels to the workers by value (this test module is not
    # importable there)
    return lambda: "tensorflow" in sys.modules


def _assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    assert list(search.cv_results_["params"]) == list(reference.cv_results_["params"])
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(
            search.cv_results_[key], reference.cv_results_[key], rtol=1e-5, err_msg=key)


def _assert_best_estimator_travels(search, reference, X):
    """The best estimator pickles (through plain arrays) and predicts."""
    best = pickle.loads(pickle.dumps(search.best_estimator_))
    state = search.best_estimator_.__getstate__()
    assert "_runtime" not in state
    assert all(isinstance(w, np.ndarray) for w in state["_state"].weights)
    np.testing.assert_allclose(best.predict(X), search.best_estimator_.predict(X), rtol=1e-6)
    np.testing.assert_allclose(best.predict(X), reference.best_estimator_.predict(X), rtol=1e-5)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ratings():
    from skembrec.datasets import make_ratings

    return make_ratings(n_users=200, n_items=100, n_ratings=4000, random_state=0,
                        return_X_y=True)


@pytest.fixture(scope="module")
def default_search(ratings):
    """The reference: the default backend, one job."""
    X, y = ratings
    return _make_search(n_jobs=1).fit(X, y)


@pytest.fixture(scope="class")
def dask_client():
    """A two-process LocalCluster on 127.0.0.1, always closed afterwards.

    Class-scoped: the cluster (two processes holding TensorFlow) is gone
    before the Ray tests start.
    """
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True,
        host="127.0.0.1", dashboard_address=None,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def ray_backend(tmp_path_factory):
    """A local Ray instance (2 CPUs, no dashboard, 127.0.0.1), always shut down."""
    with pytest.MonkeyPatch.context() as mp:
        # set before Ray is imported (its constants read them at import) and
        # inherited by its processes: no usage report leaves the machine, and
        # Ray keeps to the loopback address instead of replacing 127.0.0.1 by
        # the host's public address (what it does on Linux by default)
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        ray = pytest.importorskip("ray")
        ray_joblib = pytest.importorskip("ray.util.joblib")
        from joblib.pool import PicklingPool

        if ray.is_initialized():  # pragma: no cover - someone else's Ray
            pytest.skip("a Ray instance is already running in this process")
        # Ray's joblib backend rebases joblib's PicklingPool onto Ray's Pool
        # for the whole process; put it back afterwards
        bases = PicklingPool.__bases__
        ray.init(
            num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
            _temp_dir=str(tmp_path_factory.mktemp("ray")), log_to_driver=False,
        )
        try:
            assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
            ray_joblib.register_ray()
            yield ray
        finally:
            ray.shutdown()
            PicklingPool.__bases__ = bases


# ------------------------------------------------------------------- tests
# A client process that has never imported TensorFlow runs the search on the
# cluster at argv[1] (refit=False: nothing is fitted in the client).
_CLIENT_SCRIPT = textwrap.dedent("""
    import json, sys
    import joblib
    from dask.distributed import Client
    from sklearn.model_selection import GridSearchCV
    from skembrec import FunkMF
    from skembrec.datasets import make_ratings
    from skembrec.model_selection import TemporalProbeSplit

    X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000, random_state=0,
                        return_X_y=True)
    search = GridSearchCV(
        FunkMF(n_epochs=3, random_state=0), json.loads(sys.argv[2]),
        cv=TemporalProbeSplit(n_probe=2, time_column="timestamp", n_splits=2),
        scoring="neg_root_mean_squared_error", refit=False)
    before = "tensorflow" in sys.modules
    with Client(sys.argv[1]), joblib.parallel_backend("dask"):
        search.fit(X, y)
    print(json.dumps({
        "tf_before": before, "tf_after": "tensorflow" in sys.modules,
        "best_params": search.best_params_,
        "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
    }))
""")


class TestDask:
    """``GridSearchCV`` under ``joblib.parallel_backend("dask")``."""

    def test_search_matches_default_backend(self, dask_client, default_search, ratings):
        X, y = ratings
        # the workers are fresh processes: TensorFlow starts in them on the
        # first fit, not when the cluster starts or skembrec is unpickled
        assert not any(dask_client.run(_has_tensorflow()).values())
        with joblib.parallel_backend("dask"):
            search = _make_search().fit(X, y)
        assert any(dask_client.run(_has_tensorflow()).values()), "no fit ran on a worker"
        _assert_same_search(search, default_search)
        _assert_best_estimator_travels(search, default_search, X)

    def test_estimator_fitted_on_a_worker_comes_back(self, dask_client, default_search,
                                                     ratings):
        """A model trained in a worker returns by pickle and predicts the same."""
        X, y = ratings
        reference = default_search.best_estimator_
        remote = dask_client.submit(clone(reference).fit, X, y, pure=False).result()
        assert remote.n_iter_ == reference.n_iter_
        np.testing.assert_allclose(remote.predict(X), reference.predict(X), rtol=1e-5)
        user = reference.user_ids_[0]
        assert list(remote.recommend(user, n=5)) == list(reference.recommend(user, n=5))

    def test_client_never_imports_tensorflow(self, dask_client, default_search):
        """A client process runs the whole search without starting TensorFlow."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        proc = subprocess.run(
            [sys.executable, "-c", _CLIENT_SCRIPT, dask_client.scheduler.address,
             json.dumps(GRID)],
            capture_output=True, text=True, env=env, timeout=180, cwd=str(ROOT),
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["tf_before"] is False
        assert result["tf_after"] is False
        assert result["best_params"] == default_search.best_params_
        np.testing.assert_allclose(result["mean_test_score"],
                                   default_search.cv_results_["mean_test_score"], rtol=1e-5)


def test_ray_search_matches_default_backend(ray_backend, default_search, ratings):
    X, y = ratings
    with joblib.parallel_backend("ray"):
        search = _make_search().fit(X, y)
    _assert_same_search(search, default_search)
    _assert_best_estimator_travels(search, default_search, X)
