"""Writing a user's files safely: through a unique temporary file, then one
atomic rename, so an interrupted call leaves every file as it was."""

import contextlib
import os
import tempfile
from pathlib import Path


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
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


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
