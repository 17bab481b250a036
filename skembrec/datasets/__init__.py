"""Rating datasets: real formats (MovieLens, Netflix Prize) and a generator.

Nothing here imports TensorFlow.
"""

from ._base import find_dataset, get_data_home
from ._synthetic import make_ratings

__all__ = ["find_dataset", "get_data_home", "make_ratings"]
