"""The sparse optimizers: one step equals Keras' own optimizer on the rows a batch touches."""

import numpy as np
import pytest

from skembrec._engine.optimizers import OPTIMIZERS


def _dot_model(n_users, n_items, dim, seed):
    from skembrec._engine.backend import keras
    from skembrec._engine.layers import SparseEmbedding

    k = keras()
    user = k.Input(shape=(), dtype="int32")
    item = k.Input(shape=(), dtype="int32")
    init = k.initializers.RandomNormal(stddev=0.5, seed=seed)
    p = SparseEmbedding(n_users, dim, embeddings_initializer=init)
    q = SparseEmbedding(n_items, dim, embeddings_initializer=init)
    out = k.ops.sum(p(user) * q(item), axis=1)
    return k.Model([user, item], out), p, q


def _keras_optimizer(name, lr):
    from skembrec._engine.backend import keras

    k = keras()
    return {
        # Keras adds epsilon inside the square root, TensorFlow's kernel outside
        "adagrad": lambda: k.optimizers.Adagrad(lr, initial_accumulator_value=0.0,
                                                epsilon=1e-14),
        "adam": lambda: k.optimizers.Adam(lr, epsilon=1e-7),
        "adamax": lambda: k.optimizers.Adamax(lr, epsilon=1e-7),
        "sgd": lambda: k.optimizers.SGD(lr),
    }[name]()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_one_sparse_step_matches_keras_and_leaves_other_rows(name):
    from skembrec._engine.backend import tf
    from skembrec._engine.trainers.base import Epoch
    from skembrec._engine.trainers.ratings import Trainer, to_tensors
    from skembrec._engine.training import Table

    tf_ = tf()
    users = np.array([0, 2, 2, 5], dtype=np.int32)   # a duplicate user
    items = np.array([1, 1, 3, 0], dtype=np.int32)   # a duplicate item
    target = np.array([1.0, -0.5, 2.0, 0.3], dtype=np.float32)
    weight = np.ones(4, dtype=np.float32)

    model, p, q = _dot_model(8, 5, 3, seed=0)
    p0, q0 = p.embeddings.numpy().copy(), q.embeddings.numpy().copy()
    trainer = Trainer(model, [Table(p.embeddings, "user"), Table(q.embeddings, "item")],
                      loss="squared_error", optimizer=name, learning_rate=0.05, reg=0.0,
                      batch_size=4)
    trainer.run_epoch(to_tensors(users, items, target, weight, tf_.float32), Epoch(0, 0))

    # the reference: the same loss, its dense gradient, Keras' optimizer
    ref, rp, rq = _dot_model(8, 5, 3, seed=0)
    with tf_.GradientTape() as tape:
        out = ref([tf_.constant(users), tf_.constant(items)])
        loss = tf_.reduce_mean(tf_.square(out - target))
    grads = [tf_.convert_to_tensor(g) for g in tape.gradient(loss, [rp.embeddings, rq.embeddings])]
    _keras_optimizer(name, 0.05).apply(grads, [rp.embeddings, rq.embeddings])

    np.testing.assert_allclose(p.embeddings.numpy(), rp.embeddings.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q.embeddings.numpy(), rq.embeddings.numpy(), rtol=1e-5, atol=1e-6)
    untouched = np.setdiff1d(np.arange(8), users)
    np.testing.assert_array_equal(p.embeddings.numpy()[untouched], p0[untouched])
    assert not np.allclose(p.embeddings.numpy()[users], p0[users])
    np.testing.assert_array_equal(q.embeddings.numpy()[[2, 4]], q0[[2, 4]])


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_a_global_mixed_precision_policy_trains_and_keeps_float32_ratings(policy, small_ratings):
    from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF
    from skembrec._engine.backend import keras

    X, y = small_ratings
    reference = FunkMF(n_factors=8, n_epochs=3, random_state=0).fit(X, y).predict(X)
    keras().mixed_precision.set_global_policy(policy)
    try:
        funk = FunkMF(n_factors=8, n_epochs=3, random_state=0).fit(X, y)
        # FunkMF stays float32: the same model as without the policy
        np.testing.assert_allclose(funk.predict(X), reference, rtol=1e-5)
        for est in (EmbeddingRegressor(n_factors=8, n_epochs=3, random_state=0),
                    EmbeddingClassifier(n_factors=8, n_epochs=3, random_state=0)):
            pred = est.fit(X, np.round(y)).predict(X)
            assert pred.dtype.kind == "f" and np.all(np.isfinite(pred))
        assert est.model_.get_layer("logits").compute_dtype == "float32"
        assert est.predict_proba(X).sum(axis=1) == pytest.approx(1, rel=1e-5)
    finally:
        keras().mixed_precision.set_global_policy("float32")
