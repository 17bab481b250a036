"""The engine: the TensorFlow backend, Keras layers, the trace cache
(``programs``), the training paths (``training`` and ``trainers/``), the
solvers, the live runtime of a fitted model, targets and recommendation."""
