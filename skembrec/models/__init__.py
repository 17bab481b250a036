"""The estimators; each module says only what its graph is."""

from ._autorec import AutoRec
from ._bayes import BayesianMF
from ._classifier import EmbeddingClassifier
from ._ease import EASE
from ._funk import FunkMF
from ._implicit import ImplicitMF
from ._popularity import PopularityRecommender
from ._regressor import EmbeddingRegressor

__all__ = ["AutoRec", "BayesianMF", "EASE", "EmbeddingClassifier", "EmbeddingRegressor", "FunkMF",
           "ImplicitMF", "PopularityRecommender"]
