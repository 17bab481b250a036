"""
Looking inside a fitted model: learning curve, embeddings and errors
====================================================================

Fits :class:`~skembrec.FunkMF` on MovieLens-100K when it is found
(``SKEMBREC_DATA`` or ``../shared/datasets`` beside the checkout), otherwise on
synthetic :func:`~skembrec.datasets.make_ratings` data, holds out each user's
10 most recent ratings with :class:`~skembrec.model_selection.TemporalProbeSplit`,
and draws the four plots of :mod:`skembrec.plotting`: the loss per epoch, a
2-D map of the item embeddings labelled with movie titles, the error against
the number of training ratings of a user or item (cold start), and the
distribution of predicted against actual ratings.

Run ``python examples/plot_embeddings_and_errors.py --quick`` for a fast smoke
run.
"""

# %%
# Data and an honest split
# ------------------------
# The test set is each user's 10 most recent ratings, as in the Netflix
# Prize probe set. ``--quick`` trains fewer epochs; the data are the same.
import argparse

import matplotlib.pyplot as plt
import numpy as np

from skembrec import EmbeddingClassifier, FunkMF
from skembrec.datasets import find_dataset, load_movielens, make_ratings
from skembrec.model_selection import TemporalProbeSplit
from skembrec.plotting import (
    plot_error_by_support,
    plot_item_embeddings,
    plot_learning_curve,
    plot_rating_distributions,
)

parser = argparse.ArgumentParser(description="Plots of a fitted FunkMF")
parser.add_argument("--quick", action="store_true", help="a fast smoke run")
quick = parser.parse_known_args()[0].quick

if find_dataset("ml-100k") is not None:
    data = load_movielens("ml-100k")
    source, titles = "MovieLens-100K", data.movies
else:
    data = make_ratings(943, 1682, 100_000, random_state=0)
    source, titles = "make_ratings (synthetic; MovieLens-100K not found)", None
X, y = data.data, data.target.astype(float)
train, test = next(TemporalProbeSplit(n_probe=10, time_column="timestamp").split(X))
X_train, y_train = X.iloc[train], y.iloc[train]
X_test, y_test = X.iloc[test], y.iloc[test]
print(f"{source}: {len(train):,} training and {len(test):,} test ratings")

# %%
# Learning curve
# --------------
# ``early_stopping=True`` holds out 10% of the training ratings and keeps the
# weights of the epoch with the lowest validation loss, marked by the dotted
# line.
model = FunkMF(n_epochs=8 if quick else 40, early_stopping=True, n_iter_no_change=3,
               random_state=0).fit(X_train, y_train)
pred = model.predict(X_test)
rmse = np.sqrt(np.mean((y_test - pred) ** 2))
baseline = np.sqrt(np.mean((y_test - y_train.mean()) ** 2))
print(f"FunkMF: {model.n_iter_} epochs, test RMSE {rmse:.4f} "
      f"(global mean RMSE {baseline:.4f})")
ax = plot_learning_curve(model)

# %%
# A map of the item embeddings
# ----------------------------
# The 64-dimensional item factors projected on their first two principal
# components. Labelled points are drawn at random, favouring the most rated
# movies; their neighbours in the full embedding space are printed below.
fig, ax = plt.subplots(figsize=(9, 7))
plot_item_embeddings(model, titles=titles, n_labels=25, ax=ax)
popular = X_train["item"].value_counts().index[0]
names = dict(zip(titles["item"], titles["title"])) if titles is not None else {}
print(f"most similar to {names.get(popular, popular)}:")
for item in model.similar_items(popular, n=5):
    print(f"    {names.get(item, item)}")

# %%
# Cold start: error against support
# ---------------------------------
# Test ratings grouped by how many training ratings their user (left) or
# item (right) has. Items never seen in training get the fallback of the
# global mean plus the user's bias.
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
plot_error_by_support(model, X_test, y_test, by="user", X_train=X_train, ax=left)
plot_error_by_support(model, X_test, y_test, by="item", X_train=X_train, ax=right)
fig.tight_layout()

# %%
# Predicted against actual ratings
# --------------------------------
# A model fitted with squared error hedges towards the mean; a classifier
# over the five stars predicts the stars themselves, judged here by its MAE.
classifier = EmbeddingClassifier(n_epochs=3 if quick else 10, random_state=0)
classifier.fit(X_train, y_train)
stars = classifier.predict(X_test)
print(f"EmbeddingClassifier: test MAE {np.mean(np.abs(y_test - stars)):.4f}, "
      f"RMSE {np.sqrt(np.mean((y_test - stars) ** 2)):.4f}")
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
plot_rating_distributions(y_test, pred, ax=left)
left.set_title("FunkMF")
plot_rating_distributions(y_test, stars, ax=right)
right.set_title("EmbeddingClassifier")
fig.tight_layout()
plt.show()
