"""Download MovieLens releases from GroupLens: verified, then safely extracted."""

import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from ._base import get_data_home
from ._movielens import load_movielens

logger = logging.getLogger(__name__)

BASE_URL = "https://files.grouplens.org/datasets/movielens/"


class Archive(NamedTuple):
    """One downloadable release: the zip's file name under the base URL and
    its sha256, or None where no checksum is pinned."""

    filename: str
    sha256: str | None


# sha256 of the official zips as pinned by TensorFlow Datasets
# (tensorflow_datasets/url_checksums/movielens.txt) and by several
# independent projects that downloaded them. ml-10m and ml-32m have no sha256
# we could confirm; ml-latest is re-issued over time, so no value can be
# pinned. For those, pass sha256= (GroupLens publishes md5 sums only).
ARCHIVES = {
    "ml-100k": Archive(
        "ml-100k.zip",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    ),
    "ml-1m": Archive(
        "ml-1m.zip", "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20"
    ),
    "ml-10m": Archive("ml-10m.zip", None),
    "ml-20m": Archive(
        "ml-20m.zip", "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3"
    ),
    "ml-25m": Archive(
        "ml-25m.zip", "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa"
    ),
    "ml-32m": Archive("ml-32m.zip", None),
    "ml-latest": Archive("ml-latest.zip", None),
    "ml-latest-small": Archive(
        "ml-latest-small.zip",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
    ),
}


def fetch_movielens(
    name,
    data_home=None,
    download_if_missing=True,
    *,
    return_X_y=False,
    as_frame=True,
    sha256=None,
    base_url=None,
    timeout=60,
):
    """Load a MovieLens release, downloading it from GroupLens if needed.

    The release is cached as ``data_home/<name>``. On a miss the official
    zip is downloaded into a temporary folder inside ``data_home``, its
    sha256 is checked before anything is extracted, members with absolute
    paths, ``..`` components or symbolic links are refused, and the
    extracted folder is renamed into place in one step, so ``data_home``
    never holds a partial release. Then :func:`load_movielens` reads it.

    Parameters
    ----------
    name : str
        A key of ``ARCHIVES``: ``"ml-100k"``, ``"ml-1m"``, ``"ml-10m"``,
        ``"ml-20m"``, ``"ml-25m"``, ``"ml-32m"``, ``"ml-latest"``,
        ``"ml-latest-small"``.
    data_home : str or path-like, default=None
        The cache folder; by default ``SKEMBREC_DATA``, else
        ``~/skembrec_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        If False, a release missing from ``data_home`` raises
        ``FileNotFoundError`` instead of being downloaded.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; otherwise NumPy arrays.
    sha256 : str, default=None
        Expected sha256 of the zip, overriding ``ARCHIVES``; required for
        releases with no pinned checksum (``ml-10m``, ``ml-32m``,
        ``ml-latest``).
    base_url : str, default=None
        Where the zips live (a mirror); by default ``BASE_URL``, the
        GroupLens server. The URL is ``base_url + ARCHIVES[name].filename``.
    timeout : float, default=60
        Seconds to wait for the server.

    Returns
    -------
    data : Bunch or tuple ``(X, y)``
        As returned by :func:`load_movielens`.

    Raises
    ------
    FileNotFoundError
        The release is missing and ``download_if_missing=False``.
    ValueError
        Unknown name, no known checksum, checksum mismatch, or an unsafe or
        corrupt archive. Nothing is left in ``data_home`` in these cases.
    OSError
        The download failed.

    Examples
    --------
    >>> from skembrec.datasets import fetch_movielens
    >>> data = fetch_movielens("ml-100k")  # doctest: +SKIP
    >>> data.frame.shape  # doctest: +SKIP
    (100000, 4)
    """
    if name not in ARCHIVES:
        raise ValueError(
            f"unknown MovieLens release {name!r}; expected one of {sorted(ARCHIVES)}"
        )
    data_home = get_data_home(data_home)
    target = data_home / name
    if not target.exists():
        if not download_if_missing:
            raise FileNotFoundError(
                f"MovieLens release {name!r} is not in {data_home} and "
                "download_if_missing=False"
            )
        archive = ARCHIVES[name]
        expected = sha256 or archive.sha256
        if expected is None:
            raise ValueError(
                f"no sha256 is pinned for {archive.filename}; pass sha256= with "
                "the checksum you trust (GroupLens publishes an md5 beside the zip)"
            )
        url = (base_url or BASE_URL).rstrip("/") + "/" + archive.filename
        loaded = _download_release(url, expected.lower(), target, timeout,
                                   lambda folder: load_movielens(
                                       folder, return_X_y=return_X_y, as_frame=as_frame))
        if loaded is not None:
            return loaded
    return load_movielens(target, return_X_y=return_X_y, as_frame=as_frame)


def _download_release(url, expected_sha256, target, timeout, parse):
    """Download, verify, extract and parse a release, then install it at
    ``target`` in one rename; return what ``parse`` read (None when another
    process installed the release meanwhile)."""
    # the temporary folder sits in data_home so the final rename is atomic
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        zip_path = tmp / "archive.zip"
        logger.info("downloading %s", url)
        digest = _download(url, zip_path, timeout)
        if digest != expected_sha256:
            raise ValueError(
                f"checksum mismatch for {url}: expected sha256 {expected_sha256}, "
                f"got {digest}; the download was discarded"
            )
        extracted = tmp / "extracted"
        _safe_extract(zip_path, extracted)
        # GroupLens zips hold one folder (ml-10m.zip holds ml-10M100K/)
        entries = list(extracted.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else extracted
        # parse before installing: a release whose ratings do not read is
        # never put in place, so a later call downloads afresh
        try:
            loaded = parse(top)
        except (ValueError, FileNotFoundError, KeyError, UnicodeDecodeError) as exc:
            raise ValueError(f"{url} holds ratings that do not parse ({exc}); nothing "
                             "was installed") from None
        try:
            os.rename(top, target)
        except OSError:
            if not target.is_dir():
                raise
            return None  # another process installed the same release meanwhile
        return loaded
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _download(url, path, timeout):
    """Stream ``url`` into ``path``; return the sha256 of the bytes."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "skembrec"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            with open(path, "wb") as f:
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
                    f.write(chunk)
    except urllib.error.URLError as exc:
        raise OSError(f"could not download {url}: {exc}") from exc
    return digest.hexdigest()


def _check_member(info):
    name = info.filename
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"[A-Za-z]:", posix):
        raise ValueError(f"unsafe archive member {name!r}: absolute path")
    if ".." in PurePosixPath(posix).parts:
        raise ValueError(f"unsafe archive member {name!r}: '..' in the path")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"unsafe archive member {name!r}: symbolic link")
    return posix


def _safe_extract(zip_path, folder):
    """Extract regular files and folders only, all inside ``folder``."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a valid zip archive: {exc}") from None
    with archive:
        # check every member before writing anything
        members = [(info, _check_member(info)) for info in archive.infolist()]
        root = folder.resolve()
        root.mkdir(parents=True)
        for info, name in members:
            dest = (root / name).resolve()
            if dest != root and root not in dest.parents:  # belt and braces
                raise ValueError(f"unsafe archive member {info.filename!r}")
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, EOFError) as exc:
                raise ValueError(
                    f"corrupt archive member {info.filename!r}: {exc}"
                ) from None
