"""Rating datasets: real formats (MovieLens, Netflix Prize) and a generator.

Nothing here imports TensorFlow.
"""

from ._base import find_dataset, get_data_home
from ._fetch import fetch_movielens
from ._movielens import load_movielens
from ._netflix import load_netflix
from ._shards import RatingShards, write_rating_shards
from ._synthetic import make_ratings

__all__ = [
    "RatingShards",
    "fetch_movielens",
    "find_dataset",
    "get_data_home",
    "load_movielens",
    "load_netflix",
    "make_ratings",
    "write_rating_shards",
]
