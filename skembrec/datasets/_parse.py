"""Helpers shared by the file parsers: reading bytes and naming bad lines."""

import gzip
import zlib
from pathlib import Path

_GZIP_MAGIC = b"\x1f\x8b"


class ParseError(ValueError):
    """A malformed input file.

    The message reads ``"<file>, line <n>: <reason>"`` with a 1-based line
    number, so the user can open the file at the offending line.

    Parameters
    ----------
    path : str or path-like
        The file.
    line : int or None
        1-based line number, or None when the problem is the whole file.
    reason : str
        What is wrong.
    """

    def __init__(self, path, line, reason):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):
        # keep the exception picklable (joblib workers send it back)
        return type(self), (self.path, self.line, self.reason)


def is_gzip(path):
    """Whether the file starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def read_bytes(path):
    """Return the content of a file, decompressed when it is gzip."""
    data = Path(path).read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ParseError(path, None, f"corrupt gzip data ({exc})") from None
    return data


def decode_text(data):
    """Decode UTF-8, falling back to latin-1 (old GroupLens and Netflix files)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def line_number(data, offset, first_line=1):
    """1-based number of the line holding byte ``offset`` of ``data``."""
    return first_line + data.count(b"\n", 0, offset)


def shorten(text, width=60):
    """A short printable excerpt of a bad line for an error message."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    text = text.rstrip("\r\n")
    return repr(text if len(text) <= width else text[:width] + "...")
