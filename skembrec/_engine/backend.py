"""Lazy, quiet access to TensorFlow and Keras.

Importing skembrec never imports TensorFlow; the first model build does, via
:func:`tf` and :func:`keras`. Before that first import we ask TensorFlow's C++
logging to stay quiet (users who set ``TF_CPP_MIN_LOG_LEVEL`` themselves keep
their choice), and we pin Keras to the TensorFlow backend only when the user
has not chosen one: the training step uses TensorFlow kernels directly.
"""

import contextlib
import importlib.machinery
import importlib.util
import logging
import os
import signal
import sys
import tempfile
import threading

_STATE = {}


@contextlib.contextmanager
def _quiet_native_stderr():
    """Hold back what native code writes to file descriptor 2 meanwhile.

    TensorFlow's C++ start-up messages (oneDNN, CUDA probing) are written
    before its logging reads ``TF_CPP_MIN_LOG_LEVEL``. They are replayed if
    the import fails, so a real error is never hidden.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pragma: no cover - no real fd
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        except BaseException:
            os.dup2(saved, fd)
            sink.seek(0)
            os.write(fd, sink.read())
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold a Ctrl-C back until the block is done, then raise it.

    An import of TensorFlow cut short by ``KeyboardInterrupt`` leaves half
    its modules registered, and every later import fails ("... has already
    been registered"): the process could never fit again. So the import runs
    to its end and the interrupt is raised right after it. Signals reach the
    main thread only; elsewhere there is nothing to hold back.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield  # None: a handler not installed from Python, left alone
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):  # Python's default handler raises KeyboardInterrupt
            previous(signal.SIGINT, None)
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt


class _LazyPyplotFinder:
    """Finds ``matplotlib.pyplot`` with a loader that runs it on first use."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib.pyplot":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and hasattr(spec.loader,
                                                                    "exec_module"):
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


@contextlib.contextmanager
def _pyplot_deferred():
    """Let Keras' import of ``matplotlib.pyplot`` load it lazily.

    Keras imports pyplot at its own import, where matplotlib is installed,
    for one image-gallery helper: about a tenth of TensorFlow's start-up,
    paid inside the first fit. Imported through :class:`importlib.util.LazyLoader`,
    pyplot runs when it is first used (the user's own ``import
    matplotlib.pyplot`` included), as it would have. A pyplot already
    imported is left alone.
    """
    if "matplotlib.pyplot" in sys.modules:
        yield
        return
    finder = _LazyPyplotFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def _prepare_environment():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def tf():
    """Return the ``tensorflow`` module, importing it quietly on first use."""
    module = _STATE.get("tf")
    if module is None:
        _prepare_environment()
        with _interrupts_deferred(), _quiet_native_stderr(), _pyplot_deferred():
            import tensorflow as module

            _configure_devices(module)
            _quiet_python_logger(module)
        os.register_at_fork(after_in_child=_warn_forked)
        _STATE["tf"] = module
    return module


def keras():
    """Return the ``keras`` module (Keras 3 on the TensorFlow backend)."""
    module = _STATE.get("keras")
    if module is None:
        tf()
        with _interrupts_deferred():
            import keras as module

        if module.backend.backend() != "tensorflow":
            raise RuntimeError(
                "skembrec needs Keras on the TensorFlow backend, but "
                f"KERAS_BACKEND={module.backend.backend()!r}"
            )
        _STATE["keras"] = module
    return module


def _warn_forked():
    # TensorFlow's thread pools do not survive fork(): a forked child that
    # trains can hang. joblib's loky, Dask and Ray start fresh processes.
    import warnings

    warnings.warn(
        "this process was forked after TensorFlow started; TensorFlow is not "
        "fork-safe and a fit in the child may hang. Use joblib's default (loky) "
        "backend, multiprocessing's 'spawn' start method, Dask or Ray instead.",
        RuntimeWarning,
        stacklevel=2,
    )


def _quiet_python_logger(tf_module):
    # Each fitted model owns a few compiled functions, so a session of many
    # fits (a grid search) trips TensorFlow's "frequent retracing" notice,
    # which is not actionable for users. Only a logger left at its default
    # level is changed.
    logger = tf_module.get_logger()
    if logger.level in (logging.NOTSET, logging.WARNING):
        logger.setLevel(logging.ERROR)


def _configure_devices(tf_module):
    # Several processes (GridSearchCV workers, Dask workers) may share one GPU:
    # allocate its memory on demand instead of grabbing it all at start.
    for gpu in tf_module.config.list_physical_devices("GPU"):
        try:
            tf_module.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # pragma: no cover - devices already initialised
            pass


def compiled(function, **options):
    """``tf.function(function)`` without AutoGraph: the training and
    prediction graphs have no Python control flow over tensors (loops are
    :func:`graph_loop`), and AutoGraph's conversion of their source costs
    about a second of a process's first fit."""
    return tf().function(function, reduce_retracing=True, autograph=False, **options)


def graph_loop(n, body, *state):
    """``state = body(b, *state)`` for ``b`` in ``range(n)``, as a loop in the
    graph (``n`` a scalar int32 tensor); returns the final ``state``."""
    tf_ = tf()
    final = tf_.while_loop(lambda b, *_: b < n,
                           lambda b, *values: (b + 1, *body(b, *values)),
                           (tf_.constant(0, tf_.int32), *state))
    return final[1:]
