"""Splitters for rating data: honest train/test protocols as scikit-learn CV.

Nothing here imports TensorFlow.
"""

from ._split import (
    ColdUserSplit,
    ItemHoldoutSplit,
    TemporalProbeSplit,
    TimeCutoffSplit,
    UserHoldoutSplit,
)

__all__ = [
    "ColdUserSplit",
    "ItemHoldoutSplit",
    "TemporalProbeSplit",
    "TimeCutoffSplit",
    "UserHoldoutSplit",
]
