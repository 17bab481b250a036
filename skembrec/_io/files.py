"""Writing a user's files safely: through a unique temporary file, then one
atomic rename, so an interrupted call leaves every file as it was."""

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# read once: os.umask can only be read by setting it, which is not thread-safe
_UMASK = _umask()


def replace_atomically(path, write):
    """Write ``path`` by calling ``write(binary file object)``, atomically.

    The bytes go to a unique temporary file in the same folder (never a fixed
    name, which could be a user's file or another writer's), which then
    replaces ``path`` in one ``os.replace``. Whatever interrupts the write
    (an error, ``KeyboardInterrupt``) removes the temporary file and leaves
    ``path`` as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def file_mode(path):
    """The permissions a new ``path`` gets: an existing file's, else those of
    a file the user creates (0666 less the umask), not mkstemp's 0600."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def temporary_path(folder, name):
    """A new, empty, uniquely named file in ``folder`` for writing ``name``."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    return tmp


def remove_quietly(*paths):
    """Remove files, ignoring those already gone."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)
