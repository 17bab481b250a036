"""Data-parallel training under tf.distribute.MirroredStrategy.

Runs in a subprocess: the CPU must be split into two logical devices before
TensorFlow starts, which the main test process may already have done.
"""

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    from skembrec._backend import tf
    tf_ = tf()
    cpu = tf_.config.list_physical_devices("CPU")[0]
    tf_.config.set_logical_device_configuration(
        cpu, [tf_.config.LogicalDeviceConfiguration()] * 2)
    from skembrec import FunkMF
    from skembrec.datasets import make_ratings

    X, y = make_ratings(n_users=300, n_items=200, n_ratings=6000, random_state=0,
                        return_X_y=True)
    params = dict(n_factors=8, n_epochs=3, batch_size=512, random_state=0,
                  optimizer="{optimizer}", time_column={time_column!r})
    single = FunkMF(**params).fit(X, y)
    strategy = tf_.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = FunkMF(**params).fit(X, y)
    print(json.dumps({{
        "replicas": strategy.num_replicas_in_sync,
        "users": float(np.abs(single.user_embeddings_ - mirrored.user_embeddings_).max()),
        "items": float(np.abs(single.item_embeddings_ - mirrored.item_embeddings_).max()),
        "biases": float(np.abs(single.item_biases_ - mirrored.item_biases_).max()),
        "pred": float(np.abs(single.predict(X) - mirrored.predict(X)).max()),
        "moved": float(np.abs(single.user_embeddings_).mean()),
        "loss": [single.history_["loss"][-1], mirrored.history_["loss"][-1]],
    }}))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer, time_column",
                         [("adagrad", None), ("adam", None), ("adagrad", "timestamp")])
def test_two_replicas_match_one_device(optimizer, time_column):
    # time-aware: the time features are sliced per replica and padded too
    script = SCRIPT.format(optimizer=optimizer, time_column=time_column)
    out = subprocess.run([sys.executable, "-c", script],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    # two replicas at global batch B train the same tables as one device at B
    assert result["users"] < 1e-4 and result["items"] < 1e-4 and result["biases"] < 1e-4
    assert result["pred"] < 1e-4
    assert result["moved"] > 1e-3  # and they did train
    assert result["loss"][0] == pytest.approx(result["loss"][1], rel=1e-5)
