"""Sparse and dense update rules (Adagrad, Adam, Adamax, SGD) on raw kernels,
and the optimizer state of a training path as plain arrays."""

from .backend import tf

OPTIMIZERS = ("adagrad", "adam", "adamax", "sgd")


class Optimizer:
    """Sparse and dense update rules of one optimizer, with their slots.

    Every write goes through a raw kernel on the variable's handle, so the
    same code updates each replica's copy under ``MirroredStrategy`` (where
    all replicas apply the same all-reduced gradient) and a plain variable.
    """

    def __init__(self, name, learning_rate, variables):
        tf_ = tf()
        self.name = name
        # a variable: warm start changes the rate without retracing
        self.lr = tf_.Variable(learning_rate, dtype=tf_.float32, trainable=False)
        self.step = tf_.Variable(
            0, dtype=tf_.int64, trainable=False,
            aggregation=tf_.VariableAggregation.ONLY_FIRST_REPLICA)
        self.slots = {}
        for var in variables:
            n_slots = {"adagrad": 1, "adam": 2, "adamax": 2}.get(name, 0)
            self.slots[var.ref()] = tuple(
                tf_.Variable(tf_.zeros_like(var), trainable=False) for _ in range(n_slots))

    def begin_step(self):
        tf_ = tf()
        self.step.assign_add(1)
        t = tf_.cast(self.step, tf_.float32) + 0.0
        self._beta1_power = 0.9**t
        self._beta2_power = 0.999**t

    def sparse(self, var, indices, grad, lr_scale=1.0):
        """Update only ``var[indices]``; ``indices`` are unique."""
        tf_ = tf()
        raw = tf_.raw_ops
        slots = self.slots[var.ref()]
        base_lr = self.lr if lr_scale == 1.0 else self.lr * lr_scale
        if self.name == "adagrad":
            raw.ResourceSparseApplyAdagradV2(
                var=var.handle, accum=slots[0].handle, lr=base_lr,
                epsilon=tf_.constant(1e-7), grad=grad, indices=indices)
        elif self.name == "adam":
            # lazy Adam: moments of the touched rows only
            m, v = slots
            m_rows = 0.9 * tf_.gather(m, indices) + 0.1 * grad
            v_rows = 0.999 * tf_.gather(v, indices) + 0.001 * tf_.square(grad)
            raw.ResourceScatterUpdate(resource=m.handle, indices=indices, updates=m_rows)
            raw.ResourceScatterUpdate(resource=v.handle, indices=indices, updates=v_rows)
            lr = base_lr * tf_.sqrt(1 - self._beta2_power) / (1 - self._beta1_power)
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=lr * m_rows / (tf_.sqrt(v_rows) + 1e-7))
        elif self.name == "adamax":
            # lazy Adamax (Adam with an infinity norm), as Keras defines it
            m, u = slots
            m_rows = 0.9 * tf_.gather(m, indices) + 0.1 * grad
            u_rows = tf_.maximum(0.999 * tf_.gather(u, indices), tf_.abs(grad))
            raw.ResourceScatterUpdate(resource=m.handle, indices=indices, updates=m_rows)
            raw.ResourceScatterUpdate(resource=u.handle, indices=indices, updates=u_rows)
            lr = base_lr / (1 - self._beta1_power)
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=lr * m_rows / (u_rows + 1e-7))
        else:
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=base_lr * grad)

    def dense(self, var, grad):
        tf_ = tf()
        raw = tf_.raw_ops
        slots = self.slots[var.ref()]
        if self.name == "adagrad":
            raw.ResourceApplyAdagradV2(
                var=var.handle, accum=slots[0].handle, lr=self.lr,
                epsilon=tf_.constant(1e-7), grad=grad)
        elif self.name == "adam":
            raw.ResourceApplyAdam(
                var=var.handle, m=slots[0].handle, v=slots[1].handle,
                beta1_power=self._beta1_power, beta2_power=self._beta2_power,
                lr=self.lr, beta1=tf_.constant(0.9), beta2=tf_.constant(0.999),
                epsilon=tf_.constant(1e-7), grad=grad)
        elif self.name == "adamax":
            raw.ResourceApplyAdaMax(
                var=var.handle, m=slots[0].handle, v=slots[1].handle,
                beta1_power=self._beta1_power, lr=self.lr, beta1=tf_.constant(0.9),
                beta2=tf_.constant(0.999), epsilon=tf_.constant(1e-7), grad=grad)
        else:
            raw.ResourceApplyGradientDescent(var=var.handle, alpha=self.lr, delta=grad)


class OptimizerStateMixin:
    """The optimizer's state of a trainer (``self.model``, ``self.optimizer``),
    as plain arrays: part of the fitted state. Shared by every training path."""

    def optimizer_state(self):
        """The optimizer's step and slots as NumPy arrays.

        Slots are keyed by the position of their variable in
        ``model.variables``.
        """
        position = {w.value.ref(): n for n, w in enumerate(self.model.variables)}
        return {
            "name": self.optimizer.name,
            "step": int(self.optimizer.step.numpy()),
            "slots": {position[ref]: [s.numpy() for s in slots]
                      for ref, slots in self.optimizer.slots.items()},
        }

    def load_optimizer_state(self, state):
        """Restore :meth:`optimizer_state` (a slot's rows may have grown)."""
        if state is None or state["name"] != self.optimizer.name:
            return
        self.optimizer.step.assign(state["step"])
        weights = self.model.variables
        for n, arrays in state["slots"].items():
            var = weights[int(n)].value
            for slot, value in zip(self.optimizer.slots[var.ref()], arrays):
                fresh = slot.numpy()
                rows = min(len(fresh), len(value)) if fresh.ndim else None
                if fresh.shape == value.shape:
                    fresh = value
                elif rows is not None and fresh.shape[1:] == value.shape[1:]:
                    # a table grew (warm start with new ids): learnt rows keep
                    # their slots, new rows start afresh
                    fresh[:rows - 1] = value[:rows - 1]
                else:
                    raise ValueError(
                        f"optimizer slot of {var.name} has shape {value.shape}, "
                        f"expected {fresh.shape}")
                slot.assign(fresh)


