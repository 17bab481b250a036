"""Splitters for rating data: honest train/test protocols as scikit-learn CV.

Nothing here imports TensorFlow.
"""

from ._split import TemporalProbeSplit, TimeCutoffSplit, UserHoldoutSplit

__all__ = ["TemporalProbeSplit", "TimeCutoffSplit", "UserHoldoutSplit"]
