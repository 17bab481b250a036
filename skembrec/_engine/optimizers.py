"""Sparse and dense update rules (Adagrad, Adam, Adamax, SGD) on raw kernels,
and the optimizer state of a training path as plain arrays."""

from typing import NamedTuple

from .backend import tf

OPTIMIZERS = ("adagrad", "adam", "adamax", "sgd")


class Step(NamedTuple):
    """What the updates of one step share (:meth:`Optimizer.begin`)."""

    #: the step size (a variable, or a tensor)
    lr: object
    #: Adam's and Adamax's bias corrections, ``beta ** t`` at step ``t``
    beta1_power: object
    beta2_power: object


class Optimizer:
    """Sparse and dense update rules of one optimizer, with its state.

    The state (a slot tuple per variable, the rate, the step count) is
    created here, but the rules (:meth:`begin`, :meth:`apply_sparse`,
    :meth:`apply_dense`) read and write only the variables they are given:
    a trainer passes its own, or a shared trace another fit's.

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

    def slots_of(self, variables):
        """The slot tuples of ``variables``, in their order."""
        return tuple(self.slots[var.ref()] for var in variables)

    # -- the rules, on the variables they are given ----------------------------
    @staticmethod
    def begin(lr, step):
        """Count a step on the variable ``step``; returns its :class:`Step`
        at the rate ``lr``."""
        tf_ = tf()
        step.assign_add(1)
        t = tf_.cast(step, tf_.float32) + 0.0
        return Step(lr, 0.9**t, 0.999**t)

    def apply_sparse(self, at, var, slots, indices, grad, lr_scale=1.0):
        """Update only ``var[indices]`` (and those rows of its ``slots``) at
        the :class:`Step` ``at``; ``indices`` are unique."""
        tf_ = tf()
        raw = tf_.raw_ops
        base_lr = at.lr if lr_scale == 1.0 else at.lr * lr_scale
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
            lr = base_lr * tf_.sqrt(1 - at.beta2_power) / (1 - at.beta1_power)
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=lr * m_rows / (tf_.sqrt(v_rows) + 1e-7))
        elif self.name == "adamax":
            # lazy Adamax (Adam with an infinity norm), as Keras defines it
            m, u = slots
            m_rows = 0.9 * tf_.gather(m, indices) + 0.1 * grad
            u_rows = tf_.maximum(0.999 * tf_.gather(u, indices), tf_.abs(grad))
            raw.ResourceScatterUpdate(resource=m.handle, indices=indices, updates=m_rows)
            raw.ResourceScatterUpdate(resource=u.handle, indices=indices, updates=u_rows)
            lr = base_lr / (1 - at.beta1_power)
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=lr * m_rows / (u_rows + 1e-7))
        else:
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=base_lr * grad)

    def apply_dense(self, at, var, slots, grad):
        """Update all of ``var`` (and its ``slots``) at the :class:`Step` ``at``."""
        tf_ = tf()
        raw = tf_.raw_ops
        if self.name == "adagrad":
            raw.ResourceApplyAdagradV2(
                var=var.handle, accum=slots[0].handle, lr=at.lr,
                epsilon=tf_.constant(1e-7), grad=grad)
        elif self.name == "adam":
            raw.ResourceApplyAdam(
                var=var.handle, m=slots[0].handle, v=slots[1].handle,
                beta1_power=at.beta1_power, beta2_power=at.beta2_power,
                lr=at.lr, beta1=tf_.constant(0.9), beta2=tf_.constant(0.999),
                epsilon=tf_.constant(1e-7), grad=grad)
        elif self.name == "adamax":
            raw.ResourceApplyAdaMax(
                var=var.handle, m=slots[0].handle, v=slots[1].handle,
                beta1_power=at.beta1_power, lr=at.lr, beta1=tf_.constant(0.9),
                beta2=tf_.constant(0.999), epsilon=tf_.constant(1e-7), grad=grad)
        else:
            raw.ResourceApplyGradientDescent(var=var.handle, alpha=at.lr, delta=grad)


class OptimizerStateMixin:
    """What the optimizer trainers (``self.model``, ``self.optimizer``, the
    L2 coefficient variable ``self._reg``, ``self.batch_size``) share: taking
    new training settings, and the optimizer's state as plain arrays (part
    of the fitted state)."""

    def configure(self, params):
        """Take the current training settings (warm start, ``partial_fit``);
        another optimizer needs a new trainer (False)."""
        if params["optimizer"] != self.optimizer.name:
            return False
        learning_rate, reg, batch_size = (params[k] for k in ("learning_rate", "reg",
                                                              "batch_size"))
        self.optimizer.lr.assign(float(learning_rate))
        self._reg.assign(float(reg))
        self.batch_size = int(batch_size)
        self._regularise(reg > 0)
        return True

    def _regularise(self, regularised):
        """Whether the graph regularises from now on (:meth:`configure`): a
        trainer whose trace depends on it retraces; by default nothing (the
        coefficient is a variable)."""

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


