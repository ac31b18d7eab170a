"""MNIST-style downloads, served by a local HTTP server (never the internet)."""

import gzip
import hashlib
import http.server
import io
import socket
import threading
import time

import numpy as np
import pytest

from backend.cli.train import _fetch_data, download_reporter
from backend.data import download as fetch
from backend.data.config import DataConfig
from backend.data.errors import DataError
from backend.data.files import MNIST_FILES, read_mnist
from backend.data.idx import write_idx
from backend.data.load import load_dataset
from graph import Sketch

N_TRAIN, N_TEST = 6, 4


def _gz_files(tmp_path):
    """The four gzipped IDX files of a tiny MNIST: {file name: bytes}."""
    rng = np.random.default_rng(0)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        write_idx(scratch / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(scratch / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return {f"{stem}.gz": (scratch / f"{stem}.gz").read_bytes() for stem in MNIST_FILES}


class _Server:
    """Serves ``routes`` ({url path: bytes}) on 127.0.0.1; anything else is a 404."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Tiny MNIST files whose MD5 sums replace the real ones; downloads allowed."""
    data = _gz_files(tmp_path)
    monkeypatch.setitem(fetch.CHECKSUMS, "mnist",
                        {name: hashlib.md5(body).hexdigest() for name, body in data.items()})
    monkeypatch.delenv(fetch.NO_DOWNLOAD_ENV, raising=False)
    return data


def _mirrors(monkeypatch, *bases):
    monkeypatch.setitem(fetch.MIRRORS, "mnist", tuple(bases))


def test_download_then_read(tmp_path, monkeypatch, server, files):
    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    folder = tmp_path / "cache" / "mnist"
    seen: dict[str, list[tuple[int, int | None]]] = {}
    paths = fetch.download_set("mnist", folder, lambda f, d, t: seen.setdefault(f, []).append(
        (d, t)))
    assert [p.name for p in paths] == list(files)
    assert all(p.read_bytes() == files[p.name] for p in paths)
    assert not list(folder.glob(".*.part"))
    ds = read_mnist("mnist", str(folder))
    assert ds.x.shape == (N_TRAIN + N_TEST, 1, 28, 28) and ds.test_start == N_TRAIN
    for name, calls in seen.items():  # increasing byte counts, ending at the file's size
        done = [d for d, _ in calls]
        assert done[0] == 0 and done == sorted(done) and done[-1] == len(files[name])
        assert {t for _, t in calls} == {len(files[name])}
    assert set(seen) == set(files)


def test_load_dataset_downloads_once_into_the_cache(tmp_path, monkeypatch, server, files):
    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    monkeypatch.setenv("NETCANVAS_DATA", str(tmp_path / "cache"))
    cfg = DataConfig.from_dict({"dataset": "mnist"})
    assert len(load_dataset(cfg)) == N_TRAIN + N_TEST
    assert len(server.requests) == 4
    assert len(load_dataset(cfg)) == N_TRAIN + N_TEST  # read from the cache folder now
    assert len(server.requests) == 4


def test_corrupted_file_rejected_and_next_mirror_used(tmp_path, monkeypatch, server, files):
    bad = {name: body[:-3] + b"xyz" for name, body in files.items()}
    server.routes = {f"/bad/{n}": b for n, b in bad.items()}
    server.routes.update({f"/good/{n}": b for n, b in files.items()})
    _mirrors(monkeypatch, server.url + "/bad/", server.url + "/good/")
    folder = tmp_path / "mnist"
    fetch.download_set("mnist", folder)
    assert all((folder / n).read_bytes() == b for n, b in files.items())
    assert [r.split("/")[1] for r in server.requests] == ["bad", "good"] * 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)  # no temporary files


def test_404_everywhere_names_the_folder(tmp_path, monkeypatch, server, files):
    _mirrors(monkeypatch, server.url + "/one/", server.url + "/two/")
    folder = tmp_path / "mnist"
    with pytest.raises(DataError) as info:
        fetch.download_set("mnist", folder)
    message = str(info.value)
    assert "HTTP 404" in message and str(folder) in message
    assert "Put the four IDX files there" in message
    assert list(folder.iterdir()) == []


def test_present_file_not_downloaded_again(tmp_path, monkeypatch, server, files):
    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    folder = tmp_path / "mnist"
    folder.mkdir()
    first = "train-images-idx3-ubyte.gz"
    (folder / first).write_bytes(files[first])
    (folder / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(  # unzipped by hand
        files["t10k-labels-idx1-ubyte.gz"]))
    fetch.download_set("mnist", folder)
    assert sorted(server.requests) == ["/a/t10k-images-idx3-ubyte.gz",
                                       "/a/train-labels-idx1-ubyte.gz"]
    assert fetch.missing("mnist", folder) == []


def test_unreachable_mirror_fails_fast(tmp_path, monkeypatch, files):
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _mirrors(monkeypatch, f"http://127.0.0.1:{port}/")
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"Could not download .*not in .*mnist"):
        fetch.download_set("mnist", tmp_path / "mnist", timeout=5.0)
    assert time.perf_counter() - start < 5.0


def test_switches_turn_downloads_off(tmp_path, monkeypatch, server, files):
    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    monkeypatch.setenv("NETCANVAS_DATA", str(tmp_path))
    off = DataConfig.from_dict({"dataset": "mnist", "options": {"download": False}})
    with pytest.raises(DataError, match="Put the four IDX files there"):
        load_dataset(off)
    cfg = DataConfig.from_dict({"dataset": "mnist"})
    with pytest.raises(DataError, match="Training downloads them"):  # the GUI preview
        load_dataset(cfg, download=False)
    monkeypatch.setenv(fetch.NO_DOWNLOAD_ENV, "1")
    with pytest.raises(DataError, match="Put the four IDX files there"):
        load_dataset(cfg)
    assert server.requests == []
    bad = DataConfig.from_dict({"dataset": "mnist", "options": {"download": "yes"}})
    with pytest.raises(DataError, match="'download' = 'yes' is not allowed"):
        load_dataset(bad)


def test_cli_fetches_with_a_progress_line(tmp_path, monkeypatch, server, files):
    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    stream = io.StringIO()
    _fetch_data({"dataset": "mnist", "path": "data"}, tmp_path, False, stream)
    assert stream.getvalue().splitlines() == [f"downloading {name}" for name in files]
    assert fetch.missing("mnist", tmp_path / "data") == []


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    report = download_reporter(stream, as_json=False)
    report("f.gz", 0, 2_000_000)
    report("f.gz", 2_000_000, 2_000_000)
    text = stream.getvalue()  # tqdm's bar, kept once the file is complete
    assert "downloading f.gz" in text and "100%" in text and "2.00M/2.00M" in text
    assert text.endswith("\n")


def _tiny_mnist_design(folder) -> Sketch:
    s = Sketch("TinyMnist")
    x = s.add("Input", shape=(28, 28), name="image")
    s.add("Output", s.add("Dense", s.add("Flatten", x), units=10, name="logits"),
          loss="cross_entropy", name="digit")
    s.settings("data", dataset="mnist", path=str(folder), validation_split=0.0, seed=0)
    s.settings("training", epochs=1, batch_size=4, device="cpu", threads=1)
    return s


def test_a_run_reports_the_download_before_it_starts(tmp_path, monkeypatch, server, files):
    from backend.training.events import Downloading
    from backend.training.trainer import Trainer

    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    events = []
    result = Trainer(_tiny_mnist_design(tmp_path / "data").doc).run(events.append)
    assert type(result).__name__ == "Finished", result
    kinds = [type(e).__name__ for e in events]
    last_download = max(i for i, k in enumerate(kinds) if k == "Downloading")
    assert last_download < kinds.index("Started")
    for name, body in files.items():
        mine = [e for e in events if isinstance(e, Downloading) and e.file == name]
        assert mine[0].done == 0 and mine[-1].done == mine[-1].total == len(body)
    assert fetch.missing("mnist", tmp_path / "data") == []
    again = []
    Trainer(_tiny_mnist_design(tmp_path / "data").doc).run(again.append)
    assert not any(isinstance(e, Downloading) for e in again)  # cached now


def test_stop_during_the_download_ends_the_run_and_keeps_no_partial_file(
        tmp_path, monkeypatch, server, files):
    from backend.training.control import Control
    from backend.training.events import Downloading
    from backend.training.trainer import Trainer

    server.routes = {f"/a/{name}": body for name, body in files.items()}
    _mirrors(monkeypatch, server.url + "/a/")
    control = Control()
    events = []

    def callback(event):
        events.append(event)
        if isinstance(event, Downloading) and event.done == 0:
            control.stop()  # pressed as the first file starts

    result = Trainer(_tiny_mnist_design(tmp_path / "data").doc).run(callback, control)
    assert type(result).__name__ == "Finished" and result.reason == "stopped"
    assert result.epochs_completed == 0
    assert not any(type(e).__name__ == "Started" for e in events)
    folder = tmp_path / "data"
    assert not list(folder.glob(".*.part"))  # nothing half-written stays behind
    assert len(fetch.missing("mnist", folder)) == 4
