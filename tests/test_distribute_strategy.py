"""Data-parallel training under tf.distribute.MirroredStrategy.

Runs in a subprocess: the CPU must be split into two logical devices before
TensorFlow starts, which the main test process may already have done. One
subprocess fits every configuration (one TensorFlow start, not three).
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    from skembrec._engine.backend import tf
    tf_ = tf()
    cpu = tf_.config.list_physical_devices("CPU")[0]
    tf_.config.set_logical_device_configuration(
        cpu, [tf_.config.LogicalDeviceConfiguration()] * 2)
    from skembrec import FunkMF
    from skembrec.datasets import make_ratings

    X, y = make_ratings(n_users=300, n_items=200, n_ratings=6000, random_state=0,
                        return_X_y=True)
    strategy = tf_.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for optimizer, time_column in CONFIGS:
        params = dict(n_factors=8, n_epochs=3, batch_size=512, random_state=0,
                      optimizer=optimizer, time_column=time_column)
        single = FunkMF(**params).fit(X, y)
        with strategy.scope():
            mirrored = FunkMF(**params).fit(X, y)
        results[f"{optimizer}-{time_column}"] = {
            "replicas": strategy.num_replicas_in_sync,
            "users": float(np.abs(single.user_embeddings_ - mirrored.user_embeddings_).max()),
            "items": float(np.abs(single.item_embeddings_ - mirrored.item_embeddings_).max()),
            "biases": float(np.abs(single.item_biases_ - mirrored.item_biases_).max()),
            "pred": float(np.abs(single.predict(X) - mirrored.predict(X)).max()),
            "moved": float(np.abs(single.user_embeddings_).mean()),
            "loss": [single.history_["loss"][-1], mirrored.history_["loss"][-1]],
        }
    print(json.dumps(results))
    """
)
# time-aware: the time features are sliced per replica and padded too
CONFIGS = [("adagrad", None), ("adam", None), ("adagrad", "timestamp")]


@pytest.mark.slow
def test_two_replicas_match_one_device():
    script = f"CONFIGS = {CONFIGS!r}\n" + SCRIPT
    out = subprocess.run([sys.executable, "-c", script],
                         capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(results) == len(CONFIGS)
    for config, result in results.items():
        assert result["replicas"] == 2, config
        # two replicas at global batch B train the same tables as one device at B
        assert max(result[key] for key in ("users", "items", "biases", "pred")) < 1e-4, (
            config, result)
        assert result["moved"] > 1e-3, config  # and they did train
        assert result["loss"][0] == pytest.approx(result["loss"][1], rel=1e-5), config


@pytest.mark.parametrize("name", ["AutoRec", "BayesianMF"])
def test_models_with_their_own_training_path_refuse_a_strategy(name, small_ratings):
    tf = pytest.importorskip("tensorflow")
    import skembrec

    X, y = small_ratings
    model = getattr(skembrec, name)(n_epochs=3, random_state=0)
    if name == "BayesianMF":
        model.set_params(n_burn_in=1, n_kept_samples=2)
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        with pytest.raises(ValueError, match=f"{name} does not train under a tf.distribute "
                                             "strategy.*outside the strategy's scope"):
            model.fit(X, y)
    # outside it, the same estimator fits
    assert np.isfinite(model.fit(X, y).predict(X[:5])).all()
