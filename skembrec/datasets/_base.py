"""Where data lives: the cache folder and the real datasets beside a checkout."""

import os
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

FRAME_COLUMNS = ["user", "item", "timestamp", "rating"]
FEATURE_COLUMNS = ["user", "item", "timestamp"]


def get_data_home(data_home=None):
    """Return the folder where skembrec caches datasets, creating it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. By default the environment variable
        ``SKEMBREC_DATA``, else ``~/skembrec_data``.

    Returns
    -------
    data_home : pathlib.Path
        The folder, which exists on return.
    """
    if data_home is None:
        data_home = os.environ.get("SKEMBREC_DATA") or Path.home() / "skembrec_data"
    data_home = Path(data_home).expanduser()
    data_home.mkdir(parents=True, exist_ok=True)
    return data_home


def _candidate_roots():
    """Folders that may hold real datasets, most specific first."""
    roots = []
    env = os.environ.get("SKEMBREC_DATA")
    if env:
        roots.append(Path(env).expanduser())
    here = Path(__file__).resolve()
    # <checkout>/skembrec/datasets/_base.py -> <checkout>/../shared/datasets
    roots.append(here.parents[3] / "shared" / "datasets")
    roots.append(Path.cwd().resolve().parent / "shared" / "datasets")
    roots.append(Path.cwd().resolve() / ".." / ".." / "shared" / "datasets")
    seen, unique = set(), []
    for root in roots:
        key = str(root.resolve()) if root.exists() else str(root)
        if key not in seen:
            seen.add(key)
            unique.append(root)
    return unique


def find_dataset(name):
    """Return the folder of a real dataset such as ``"ml-100k"``, or None.

    Looks in ``SKEMBREC_DATA`` first, then in ``../shared/datasets`` beside
    the checkout (or beside the working directory). Nothing is downloaded.

    Parameters
    ----------
    name : str
        The dataset's folder name, e.g. ``"ml-100k"`` or ``"ml-latest-small"``.

    Returns
    -------
    folder : pathlib.Path or None
        The first existing folder of that name, or None when none is found.
    """
    for root in _candidate_roots():
        candidate = root / name
        if candidate.exists():
            return candidate
    return None


def _as_output(frame, *, return_X_y, as_frame, extra=None, descr=""):
    """Shape a ratings frame into the loaders' common return value."""
    frame = frame[FRAME_COLUMNS]
    X = frame[FEATURE_COLUMNS]
    y = frame["rating"]
    if not as_frame:
        X = X.to_numpy()
        y = y.to_numpy()
    if return_X_y:
        return X, y
    bunch = Bunch(
        frame=frame if as_frame else None,
        data=X,
        target=y,
        feature_names=list(FEATURE_COLUMNS),
        target_names=["rating"],
        DESCR=descr,
    )
    if extra:
        bunch.update(extra)
    return bunch


def _empty_frame():
    return pd.DataFrame({c: [] for c in FRAME_COLUMNS})
