"""Downloads against a server on 127.0.0.1 serving small zips made here."""

import hashlib
import http.server
import threading
import zipfile

import pytest

from instdet.data.aam import Remote
from instdet.data.download import download, parse_tracks, safe_target
from instdet.errors import InstdetError


class Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    ranges = True
    drop_after: int | None = None  # first full GET stops after this many bytes
    log: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        name = self.path.split("/")[-1].split("?")[0]
        data = self.files.get(name)
        if data is None:
            self.send_error(404)
            return
        rng = self.headers.get("Range")
        self.log.append((name, rng))
        start, end = 0, len(data) - 1
        if rng and self.ranges:
            lo, _, hi = rng.removeprefix("bytes=").partition("-")
            start, end = int(lo), int(hi) if hi else len(data) - 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start : end + 1]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if Handler.drop_after is not None and len(body) > Handler.drop_after:
            self.wfile.write(body[: Handler.drop_after])
            Handler.drop_after = None
            self.close_connection = True
            return
        self.wfile.write(body)


def make_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path.read_bytes()


@pytest.fixture
def server(tmp_path):
    members = {f"annotations/{i:04d}_segments.arff": (b"x" * 5000 + bytes([i % 256])) * 20
               for i in range(1, 11)}
    data = make_zip(tmp_path / "a.zip", members)
    Handler.files = {"0001-1000-annotations-v1.1.0.zip": data}
    Handler.ranges, Handler.drop_after, Handler.log = True, None, []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    remotes = {"a": Remote("0001-1000-annotations-v1.1.0.zip", hashlib.md5(data).hexdigest(),
                           "annotations", 1, 10)}
    yield f"http://127.0.0.1:{srv.server_address[1]}/{{name}}", remotes, members
    srv.shutdown()


def test_range_requests_fetch_only_asked_members(server, tmp_path):
    url, remotes, members = server
    files = download(tmp_path / "out", tracks={2, 3}, parts=["annotations"], url_template=url,
                     remotes=remotes)
    assert sorted(f.name for f in files) == ["0002_segments.arff", "0003_segments.arff"]
    assert files[0].read_bytes() == members["annotations/0002_segments.arff"]
    assert all(r is not None for _, r in Handler.log)  # never the whole file
    assert not (tmp_path / "out" / ".downloads").exists()


def test_whole_zip_without_ranges_and_md5(server, tmp_path):
    url, remotes, members = server
    Handler.ranges = False
    files = download(tmp_path / "out", tracks={5}, parts=["annotations"], url_template=url,
                     remotes=remotes)
    assert [f.name for f in files] == ["0005_segments.arff"]
    assert (tmp_path / "out" / ".downloads" / "0001-1000-annotations-v1.1.0.zip").exists()


def test_resume_after_dropped_connection(server, tmp_path):
    url, remotes, _ = server
    Handler.drop_after = 3000
    files = download(tmp_path / "out", tracks=set(range(1, 11)), parts=["annotations"],
                     url_template=url, remotes=remotes)
    assert len(files) == 10
    resumed = [r for n, r in Handler.log if r and not r.startswith("bytes=0-")]
    assert resumed, Handler.log  # the second request asked for the rest only


def test_wrong_checksum_refused(server, tmp_path):
    url, remotes, _ = server
    remotes["a"] = Remote(remotes["a"].filename, "0" * 32, "annotations", 1, 10)
    with pytest.raises(InstdetError, match="MD5"):
        download(tmp_path / "out", tracks=set(range(1, 11)), parts=["annotations"],
                 url_template=url, remotes=remotes)
    assert not list((tmp_path / "out").rglob("*.arff"))


def test_member_escaping_destination_refused(server, tmp_path):
    url, remotes, _ = server
    data = make_zip(tmp_path / "evil.zip", {"../../evil_0001_segments.arff": b"x",
                                            "annotations/0001_segments.arff": b"y"})
    Handler.files = {"0001-1000-annotations-v1.1.0.zip": data}
    remotes["a"] = Remote(remotes["a"].filename, hashlib.md5(data).hexdigest(), "annotations", 1, 10)
    with pytest.raises(InstdetError, match="outside"):
        download(tmp_path / "out", tracks=set(range(1, 11)), parts=["annotations"],
                 url_template=url, remotes=remotes)
    assert not (tmp_path / "evil_0001_segments.arff").exists()
    assert not list((tmp_path / "out").rglob("*.arff"))


@pytest.mark.parametrize("member", ["/etc/passwd", "../x", "a/../../x", "C:/x"])
def test_safe_target(tmp_path, member):
    with pytest.raises(InstdetError):
        safe_target(tmp_path, member)


@pytest.mark.parametrize("spec, n", [("1-300", 300), ("5,17,2001-2010", 12), ("3000", 1)])
def test_parse_tracks(spec, n):
    assert len(parse_tracks(spec)) == n


@pytest.mark.parametrize("spec", ["0-5", "10-1", "abc", "2999-3001", ""])
def test_parse_tracks_bad(spec):
    with pytest.raises(InstdetError):
        parse_tracks(spec)


def test_server_down(tmp_path):
    with pytest.raises(InstdetError, match="cannot connect"):
        download(tmp_path, tracks={1}, parts=["annotations"],
                 url_template="http://127.0.0.1:9/{name}")
