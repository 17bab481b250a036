"""Tests of fetch_movielens against a local HTTP server (never the internet)."""

import hashlib
import http.server
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from skembrec.datasets import _fetch, fetch_movielens

U_DATA = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"
RATINGS_CSV = (
    "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n"
)


class Server:
    """Serve files from a folder on 127.0.0.1 and count the requests."""

    def __init__(self, folder):
        self.requests = []
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self):
                owner.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        # a short poll interval makes shutdown() quick
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    srv = Server(folder)
    srv.folder = folder
    yield srv
    srv.close()


def make_zip(path, members):
    """Write a zip of ``{name: text}``; a value ``("symlink", target)`` makes
    a symbolic-link member. Return its sha256."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            if isinstance(content, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, content[1])
            else:
                zf.writestr(name, content)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def release(monkeypatch):
    """Register a test release "ml-test" in the module-level table."""

    def register(sha256):
        monkeypatch.setitem(
            _fetch.ARCHIVES, "ml-test", _fetch.Archive("ml-test.zip", sha256)
        )

    return register


def test_download_verify_extract_and_reuse(tmp_path, server, release):
    sha = make_zip(
        server.folder / "ml-test.zip",
        {"ml-test/u.data": U_DATA, "ml-test/README": "hi"},
    )
    release(sha)
    home = tmp_path / "home"
    data = fetch_movielens("ml-test", data_home=home, base_url=server.url)
    assert data.frame.shape == (3, 4)
    assert data.frame["user"].tolist() == [196, 186, 22]
    assert server.requests == ["/ml-test.zip"]
    assert sorted(p.name for p in (home / "ml-test").iterdir()) == ["README", "u.data"]
    assert [p.name for p in home.iterdir()] == ["ml-test"]  # no temporary left
    # cached: a second call does not contact the server
    again = fetch_movielens("ml-test", data_home=home, base_url=server.url)
    assert again.frame.equals(data.frame)
    assert server.requests == ["/ml-test.zip"]
    # and download_if_missing=False is happy with the cache
    fetch_movielens("ml-test", data_home=home, download_if_missing=False)


def test_top_folder_renamed_and_skembrec_data(tmp_path, server, release, monkeypatch):
    # ml-10m.zip holds ml-10M100K/: the cache is still data_home/<name>
    sha = make_zip(
        server.folder / "ml-test.zip", {"ml-10M100K/ratings.csv": RATINGS_CSV}
    )
    release(sha)
    monkeypatch.setenv("SKEMBREC_DATA", str(tmp_path / "env-home"))
    X, y = fetch_movielens("ml-test", base_url=server.url, return_X_y=True)
    assert y.tolist() == [4.0, 4.5]
    assert (tmp_path / "env-home" / "ml-test" / "ratings.csv").is_file()


def test_sha256_parameter_overrides_the_table(tmp_path, server, release):
    sha = make_zip(server.folder / "ml-test.zip", {"ml-test/u.data": U_DATA})
    release(None)  # unknown checksum: refused unless the caller gives one
    with pytest.raises(ValueError, match="no sha256 is pinned"):
        fetch_movielens("ml-test", data_home=tmp_path / "home", base_url=server.url)
    assert server.requests == []
    data = fetch_movielens(
        "ml-test", data_home=tmp_path / "home", base_url=server.url, sha256=sha.upper()
    )
    assert len(data.frame) == 3


def test_a_release_whose_ratings_do_not_parse_is_not_installed(tmp_path, server, release):
    digest = make_zip(server.folder / "ml-test.zip",
                      {"ml-test/u.data": "196\t242\tthree stars\t881250949\n"})
    release(digest)
    home = tmp_path / "home"
    for _ in range(2):  # the second call downloads again instead of failing on a bad copy
        with pytest.raises(ValueError, match="do not parse"):
            fetch_movielens("ml-test", data_home=home, base_url=server.url)
        assert list(home.iterdir()) == []
    assert len(server.requests) == 2
    make_zip(server.folder / "ml-test.zip", {"ml-test/u.data": U_DATA})
    release(hashlib.sha256((server.folder / "ml-test.zip").read_bytes()).hexdigest())
    X, y = fetch_movielens("ml-test", data_home=home, base_url=server.url, return_X_y=True)
    assert len(X) == 3


def test_checksum_mismatch_leaves_nothing(tmp_path, server, release):
    make_zip(server.folder / "ml-test.zip", {"ml-test/u.data": U_DATA})
    release("0" * 64)
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="checksum mismatch"):
        fetch_movielens("ml-test", data_home=home, base_url=server.url)
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    "member, reason",
    [
        ("../evil", "'..' in the path"),
        ("ml-test/../../evil", "'..' in the path"),
        ("/tmp/evil", "absolute path"),
        ("C:/evil", "absolute path"),
        ("..\\evil", "'..' in the path"),
    ],
)
def test_unsafe_paths_are_refused(tmp_path, server, release, member, reason):
    sha = make_zip(
        server.folder / "ml-test.zip", {"ml-test/u.data": U_DATA, member: "pwned"}
    )
    release(sha)
    home = tmp_path / "a" / "home"
    with pytest.raises(ValueError, match=reason):
        fetch_movielens("ml-test", data_home=home, base_url=server.url)
    assert list(home.iterdir()) == []
    # nothing was written beside or above data_home either
    assert not list(tmp_path.rglob("evil"))
    assert not Path("/tmp/evil").exists()


def test_symlink_member_is_refused(tmp_path, server, release):
    members = {"ml-test/u.data": U_DATA, "ml-test/link": ("symlink", "/etc/passwd")}
    release(make_zip(server.folder / "ml-test.zip", members))
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="symbolic link"):
        fetch_movielens("ml-test", data_home=home, base_url=server.url)
    assert list(home.iterdir()) == []


def test_not_a_zip(tmp_path, server, release):
    path = server.folder / "ml-test.zip"
    path.write_bytes(b"<html>not found</html>")
    release(hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(ValueError, match="not a valid zip"):
        fetch_movielens("ml-test", data_home=tmp_path / "home", base_url=server.url)
    assert list((tmp_path / "home").iterdir()) == []


def test_missing_without_download_and_http_errors(tmp_path, server, release):
    release("0" * 64)
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_movielens(
            "ml-test", data_home=tmp_path / "home", download_if_missing=False
        )
    with pytest.raises(OSError, match="could not download"):  # 404 from the server
        fetch_movielens("ml-test", data_home=tmp_path / "home", base_url=server.url)
    assert list((tmp_path / "home").iterdir()) == []
    assert server.requests == ["/ml-test.zip"]


def test_unknown_release():
    with pytest.raises(ValueError, match="unknown MovieLens release 'ml-5k'"):
        fetch_movielens("ml-5k")


def test_table_of_releases():
    assert set(_fetch.ARCHIVES) == {
        "ml-100k",
        "ml-1m",
        "ml-10m",
        "ml-20m",
        "ml-25m",
        "ml-32m",
        "ml-latest",
        "ml-latest-small",
    }
    for name, archive in _fetch.ARCHIVES.items():
        assert archive.filename == f"{name}.zip"
        assert archive.sha256 is None or len(bytes.fromhex(archive.sha256)) == 32
    assert _fetch.BASE_URL.startswith("https://files.grouplens.org/")


@pytest.mark.parametrize("where", ["download", "extract", "parse", "install"])
def test_an_interrupted_fetch_leaves_data_home_as_it_was(tmp_path, server, release,
                                                       monkeypatch, where):
    sha = make_zip(server.folder / "ml-test.zip",
                   {"ml-test/u.data": U_DATA, "ml-test/README": "hi"})
    release(sha)
    home = tmp_path / "home"
    home.mkdir()
    (home / "ml-other").mkdir()
    (home / "ml-other" / "mine.txt").write_text("a user's file")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    targets = {"download": (_fetch, "_download"), "extract": (_fetch, "_safe_extract"),
               "parse": (_fetch, "load_movielens"), "install": (_fetch.os, "rename")}
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(*targets[where], interrupt)
        fetch_movielens("ml-test", data_home=home, base_url=server.url)
    assert [p.name for p in home.iterdir()] == ["ml-other"]
    assert (home / "ml-other" / "mine.txt").read_text() == "a user's file"
    # and the next call fetches the release whole
    assert len(fetch_movielens("ml-test", data_home=home, base_url=server.url).frame) == 3
