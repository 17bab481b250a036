"""A user's BayesianMF script, to time as a whole process from outside.

MovieLens-100K from our loader (a DataFrame with its time column),
``BayesianMF(random_state=0)`` fitted on u1.base and predicted on u1.test::

    time SKEMBREC_DATA=../shared/datasets python benchmarks/user_bayes.py
"""

import os

import numpy as np

from skembrec import BayesianMF
from skembrec.datasets import load_movielens

bunch = load_movielens(os.path.join(os.environ["SKEMBREC_DATA"], "ml-100k"))
train, test = bunch.folds != 0, bunch.folds == 0
model = BayesianMF(random_state=0).fit(bunch.data[train], bunch.target[train])
pred = model.predict(bunch.data[test])
print("RMSE", float(np.sqrt(np.mean((np.asarray(bunch.target[test]) - pred) ** 2))))
