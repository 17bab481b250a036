"""The estimators; each module says only what its graph is."""

from ._classifier import EmbeddingClassifier
from ._funk import FunkMF
from ._popularity import PopularityRecommender
from ._regressor import EmbeddingRegressor

__all__ = ["EmbeddingClassifier", "EmbeddingRegressor", "FunkMF", "PopularityRecommender"]
