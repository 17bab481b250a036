"""skembrec: scikit-learn estimators for rating prediction with embeddings.

Importing the package is fast and silent: the estimators are imported on
first use, and TensorFlow starts only when a model is first built.
"""

from ._version import __version__

__all__ = [
    "AutoRec",
    "BayesianMF",
    "EASE",
    "EmbeddingClassifier",
    "EmbeddingRegressor",
    "FunkMF",
    "ImplicitMF",
    "PopularityRecommender",
    "__version__",
]
_MODELS = ("AutoRec", "BayesianMF", "EASE", "EmbeddingClassifier", "EmbeddingRegressor", "FunkMF",
           "ImplicitMF", "PopularityRecommender")


def __getattr__(name):
    # PEP 562: `from skembrec import FunkMF` imports the models module on
    # demand, so `import skembrec.datasets` stays light.
    if name in _MODELS:
        from . import models

        return getattr(models, name)
    if name == "metrics":
        # `skembrec.metrics` after a bare `import skembrec` (no TensorFlow)
        import importlib

        return importlib.import_module(".metrics", __name__)
    raise AttributeError(f"module 'skembrec' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
