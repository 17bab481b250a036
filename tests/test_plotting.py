"""skembrec.plotting draws what it says: checked on the figure, rendered headless."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from skembrec import EmbeddingClassifier, FunkMF  # noqa: E402
from skembrec.datasets import make_ratings  # noqa: E402
from skembrec.plotting import (  # noqa: E402
    plot_error_by_support,
    plot_item_embeddings,
    plot_learning_curve,
    plot_rating_distributions,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def split():
    """Train/test ratings; the test rows include unseen users and items."""
    frame = make_ratings(n_users=120, n_items=60, n_ratings=3000, random_state=3).frame
    test = np.random.default_rng(0).random(len(frame)) < 0.2
    # users and items 1..5 are only in the test set: cold start
    cold = frame.user.isin(range(1, 6)) | frame.item.isin(range(1, 4))
    train, test = frame[~test & ~cold], frame[test | cold]
    cols = ["user", "item", "timestamp"]
    return train[cols], train.rating, test[cols], test.rating


@pytest.fixture(scope="module")
def model(split):
    X, y, _, _ = split
    return FunkMF(n_factors=6, n_epochs=6, early_stopping=True, n_iter_no_change=10,
                  random_state=0).fit(X, y)


def render(ax, tmp_path, name="plot.png"):
    """Save the figure to a PNG and check it is a real image of the figure's size."""
    fig = ax.figure
    path = tmp_path / name
    fig.savefig(path, dpi=50)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    expected = np.round(fig.get_size_inches() * 50)
    assert (width, height) == tuple(expected.astype(int))
    return path


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------- learning curve
def test_learning_curve_draws_history(model, tmp_path):
    ax = plot_learning_curve(model)
    render(ax, tmp_path)
    train, val, best = ax.get_lines()
    assert train.get_label() == "training loss"
    np.testing.assert_array_equal(train.get_xdata(), np.arange(1, model.n_iter_ + 1))
    np.testing.assert_allclose(train.get_ydata(), model.history_["loss"])
    np.testing.assert_allclose(val.get_ydata(), model.history_["val_loss"])
    # the dotted line marks the epoch with the lowest validation loss
    assert best.get_xdata()[0] == 1 + int(np.argmin(model.history_["val_loss"]))
    assert legend_texts(ax) == ["training loss", "validation loss", "best validation epoch"]
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "loss (mean squared error)"
    assert ax.get_title() == "FunkMF: loss per epoch"


def test_learning_curve_without_validation_and_on_given_axes(split, tmp_path):
    X, y, _, _ = split
    clf = EmbeddingClassifier(n_factors=4, n_epochs=3, random_state=0).fit(X, y)
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_learning_curve(clf, ax=right)
    render(ax, tmp_path)
    assert ax is right and not left.get_lines()
    assert [line.get_label() for line in ax.get_lines()] == ["training loss"]
    assert len(ax.get_lines()[0].get_xdata()) == 3
    assert ax.get_ylabel() == "loss (cross-entropy)"


def test_learning_curve_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        plot_learning_curve(FunkMF())


# -------------------------------------------------------------- item embeddings
def test_item_embeddings_map_is_the_pca_of_the_table(model, tmp_path):
    from sklearn.decomposition import PCA

    titles = {item: f"film {item}" for item in model.item_ids_}
    ax = plot_item_embeddings(model, titles=titles, n_labels=7)
    render(ax, tmp_path)
    points = ax.collections[0].get_offsets()
    assert len(points) == model.n_items_
    reference = PCA(2).fit_transform(model.item_embeddings_.astype(np.float64))
    # the same projection up to the sign of each component
    np.testing.assert_allclose(np.abs(points), np.abs(reference), atol=1e-5)
    labels = [t.get_text() for t in ax.texts]
    assert len(labels) == 7 and len(set(labels)) == 7
    assert set(labels) <= set(titles.values())
    assert ax.get_xlabel().startswith("component 1 (") and "% of variance" in ax.get_xlabel()
    assert ax.get_ylabel().startswith("component 2 (")
    assert f"{model.n_items_} items" in ax.get_title()
    # a colour bar of the item's number of training ratings
    assert len(ax.figure.axes) == 2
    assert "training ratings" in ax.figure.axes[1].get_ylabel()


def test_item_embeddings_labels_from_a_movies_frame_and_ids(model):
    movies = pd.DataFrame({"item": model.item_ids_[:3], "title": ["A", "B", "C"]})
    ax = plot_item_embeddings(model, titles=movies, n_labels=model.n_items_ + 10)
    labels = {t.get_text() for t in ax.texts}
    assert len(ax.texts) == model.n_items_  # capped at the number of items
    assert {"A", "B", "C"} <= labels
    # items without a title are labelled with their id
    assert str(model.item_ids_[-1]) in labels
    ax = plot_item_embeddings(model, n_labels=0)
    assert not ax.texts


def test_item_embeddings_label_choice_is_seeded(model):
    first = [t.get_text() for t in plot_item_embeddings(model, n_labels=5).texts]
    again = [t.get_text() for t in plot_item_embeddings(model, n_labels=5).texts]
    other = [t.get_text() for t in plot_item_embeddings(model, n_labels=5,
                                                        random_state=1).texts]
    assert first == again and first != other


def test_item_embeddings_labels_do_not_overlap(model):
    titles = {item: f"A Film Title {item} (1995)" for item in model.item_ids_}
    ax = plot_item_embeddings(model, titles=titles, n_labels=8)
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    overlaps = [(a.get_text(), b.get_text()) for n, a in enumerate(ax.texts)
                for b in ax.texts[n + 1:]
                if boxes[n].overlaps(boxes[ax.texts.index(b)])]
    assert not overlaps


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_item_embeddings_rejects_bad_n_labels(model, bad):
    with pytest.raises(ValueError, match="n_labels"):
        plot_item_embeddings(model, n_labels=bad)


def test_item_embeddings_rejects_a_frame_without_titles(model):
    with pytest.raises(ValueError, match="'item' and 'title'"):
        plot_item_embeddings(model, titles=pd.DataFrame({"item": [1], "name": ["x"]}))


# ------------------------------------------------------------ error by support
def _bin(count):
    edges = [0, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    return next((e for e in edges if count <= e), None)


@pytest.mark.parametrize("by", ["user", "item"])
def test_error_by_support_bars_are_the_binned_errors(model, split, by, tmp_path):
    X, _, X_test, y_test = split
    ax = plot_error_by_support(model, X_test, y_test, by=by, X_train=X)
    render(ax, tmp_path)
    column = "user" if by == "user" else "item"
    support = X_test[column].map(X[column].value_counts()).fillna(0).to_numpy()
    error = (y_test.to_numpy() - model.predict(X_test)) ** 2
    bins = np.array([_bin(c) for c in support], dtype=float)
    expected = [np.sqrt(error[bins == b].mean()) for b in np.unique(bins)]
    bars = ax.containers[0]
    assert len(bars) == len(expected)
    np.testing.assert_allclose([b.get_height() for b in bars], expected, rtol=1e-6)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "0"  # the cold-start bin comes first
    names = {0: "0", 2: "1-2", 5: "3-5", 10: "6-10", 20: "11-20", 50: "21-50",
             100: "51-100", 200: "101-200", 500: "201-500", 1000: "501-1000"}
    assert ticks == [names[int(b)] for b in np.unique(bins)]
    counts = [int(t.get_text()[2:].replace(",", "")) for t in ax.texts]
    assert sum(counts) == len(y_test)
    assert ax.get_xlabel() == f"training ratings per {by}"
    assert ax.get_ylabel() == "RMSE"
    overall = ax.get_lines()[0].get_ydata()[0]
    assert overall == pytest.approx(np.sqrt(error.mean()))
    assert legend_texts(ax) == [f"all test ratings ({len(y_test):,})"]


def test_error_by_support_counts_the_fit_data_by_default(model, split):
    X, _, X_test, y_test = split
    explicit = plot_error_by_support(model, X_test, y_test, by="item", X_train=X)
    implicit = plot_error_by_support(model, X_test, y_test, by="item")
    # make_ratings draws each (user, item) pair once: both counts agree
    assert ([b.get_height() for b in explicit.containers[0]]
            == [b.get_height() for b in implicit.containers[0]])


def test_error_by_support_mae_and_bad_arguments(model, split):
    X, _, X_test, y_test = split
    ax = plot_error_by_support(model, X_test, y_test.to_numpy(), metric="mae",
                               X_train=X.to_numpy())
    assert ax.get_ylabel() == "MAE"
    with pytest.raises(ValueError, match="by must be"):
        plot_error_by_support(model, X_test, y_test, by="movie")
    with pytest.raises(ValueError, match="metric must be"):
        plot_error_by_support(model, X_test, y_test, metric="r2")


# -------------------------------------------------------- rating distributions
def test_rating_distributions_one_bin_per_star(tmp_path):
    y_true = np.array([1, 2, 3, 3, 4, 4, 4, 5])
    y_pred = np.array([1.4, 2.6, 3.1, 3.4, 3.9, 4.2, 4.4, 4.6])
    ax = plot_rating_distributions(y_true, y_pred)
    render(ax, tmp_path)
    assert len(ax.patches) == 10  # 5 stars x (actual, predicted)
    actual, predicted = ax.containers
    np.testing.assert_allclose([p.get_height() for p in actual],
                               np.array([1, 1, 2, 3, 1]) / 8)
    np.testing.assert_allclose([p.get_height() for p in predicted],
                               np.array([1, 0, 3, 3, 1]) / 8)
    assert legend_texts(ax) == ["actual", "predicted"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("rating", "share of ratings")
    assert "8 ratings" in ax.get_title()


def test_rating_distributions_half_stars_and_continuous():
    half = plot_rating_distributions([0.5, 1.0, 4.5, 5.0], [0.7, 1.2, 4.4, 4.9])
    assert len(half.patches) == 2 * 10  # 0.5 .. 5.0 in half stars
    plt.close("all")
    rng = np.random.default_rng(0)
    cont = plot_rating_distributions(rng.normal(size=200), rng.normal(size=200))
    assert len(cont.patches) == 2 * 20
    with pytest.raises(ValueError, match="one length"):
        plot_rating_distributions([1, 2], [1])


# ------------------------------------------------------------ optional matplotlib
def test_module_imports_without_matplotlib_and_says_how_to_install():
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None\n"
        "import skembrec.plotting as p\n"
        "try:\n"
        "    p.plot_rating_distributions([1, 2], [1, 2])\n"
        "except ImportError as e:\n"
        "    print('ImportError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ImportError:" in out.stdout
    assert 'pip install "skembrec[plot]"' in out.stdout
