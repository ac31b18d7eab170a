"""The one-off work of a launch, done off the GUI thread: loading PyTorch, the backend, the
plotting library, and a first analysis of the designs a person is likely to open.

Measured on the GUI thread (2 cores): importing torch for the first analysis stalled it for
1.3–1.6 s, the training panel's imports (pyqtgraph, numpy) for ~0.4 s, and the first analysis
of the CNN example (the meta device's first convolution, batch norm, …) for ~1.1 s. Here they
run in a background job; the window's analysis starts when it has finished.

Python code in a thread shares the GIL in turns of a few milliseconds, so the GUI thread keeps
running while modules import. The exception is a long call into C that holds the GIL: loading
``libtorch_cpu.so`` (its static initialisers: ~160–240 ms) happens inside ``import torch`` with
the GIL held. `preload_torch` loads that library first through ``dlopen`` called with ctypes,
which releases the GIL during the call, so the import that follows finds it loaded.

While a background job runs, garbage is collected on the GUI thread only (`builder.gc_policy`),
every 200 ms, generation by generation. Imports allocate hundreds of thousands of objects that
live as long as the app; collecting them young took the GUI thread 30 ms (generation 0) and
140–180 ms (generation 1) each time. After each step the warm-up moves everything allocated so
far into the collector's permanent generation (``gc.freeze()``: no collection, nothing freed,
so nothing runs in this thread that gc_policy keeps on the GUI thread), which leaves the young
generations small, and later full collections skip the libraries' objects. The price: cyclic
garbage that exists at that moment is never collected (a few kilobytes at start-up).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

#: What the app imports later, in the order it needs it: the first analysis, the training
#: panel (and the first Run), then what loading the built-in data sets imports.
ANALYSIS_MODULES = ("torch", "backend.model.shapes", "backend.model.codegen")
PANEL_MODULES = ("backend.training.trainer", "builder.training.panel")
#: backend.export.weights: safetensors (a Rust extension whose import holds the GIL), which
#: building a model from the current weights for the first Evaluate needs.
DATA_MODULES = ("backend.data.prepare", "backend.data.load", "sklearn.datasets",
                "backend.export.weights")
#: `warm_up` reports this step when it is done.
ANALYSIS_READY = "analysis ready"
#: The libraries `preload_torch` loads without the GIL, in order.
TORCH_LIBRARIES = ("libtorch_cpu.so",)


def preload_torch() -> bool:
    """Load PyTorch's big shared library without holding the GIL (Linux); False when there is
    nothing to do (torch imported already, another platform, a different layout)."""
    if "torch" in sys.modules or not sys.platform.startswith("linux"):
        return False
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return False
    folder = os.path.join(os.path.dirname(spec.origin), "lib")
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return False
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = False
    for name in TORCH_LIBRARIES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            # a foreign-function call: ctypes releases the GIL while dlopen runs
            loaded = bool(dlopen(path.encode(), os.RTLD_NOW | os.RTLD_GLOBAL)) or loaded
    return loaded


#: While the warm-up imports, the objects allocated are frozen whenever the collector's
#: youngest generation holds more than this many (a young collection of 5,000 objects takes
#: the GUI thread a millisecond or two; of the 300,000 that ``import torch`` makes, ~100 ms).
FREEZE_AT = 5_000
#: The youngest generation's threshold while the warm-up runs (see `_no_young_collections`).
YOUNG_THRESHOLD_DURING_WARM_UP = 10_000_000
#: The interpreter's thread switch interval while the warm-up imports (see `_quiet`).
SWITCH_INTERVAL_DURING_WARM_UP_S = 0.0005


class _FreezingFinder:
    """A `sys.meta_path` entry that finds nothing: it only freezes the young objects when there
    are many, each time a module is looked for (so also in the middle of ``import torch``)."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if gc.get_count()[0] > FREEZE_AT:
            gc.freeze()
        if not _core.is_set() and "torch._C" in sys.modules:
            _core.set()  # an extension is in sys.modules once its initialisation has run
        return None


#: The thread that starts loading torch as the process starts (`start_loading_torch`).
_early: threading.Thread | None = None
_go = threading.Event()  # the window is built: import torch now
_core = threading.Event()  # torch's extension module is initialised


def start_loading_torch() -> bool:
    """Begin loading torch as the app starts (the launcher calls this, before Qt).

    ``import torch`` holds the GIL for one long call however it is done: the initialisation
    of its extension module ``torch._C`` (60–120 ms measured). Done after the window is shown,
    that call froze the window for as long. So: this thread loads torch's big library first,
    without the GIL, while the main thread imports the app; when the window is built,
    `let_torch_load` lets it import torch and waits (not holding the GIL) until ``torch._C``
    is initialised — ~0.15 s before the window is shown, instead of a freeze after. The rest
    of the import is Python code, which takes turns with the GUI thread.

    Automatic garbage collection is off until the warm-up has joined the thread (`gc_policy`:
    no collection may run in a background thread once Qt objects exist)."""
    global _early
    if _early is not None or "torch" in sys.modules:
        return False
    from builder import gc_policy

    gc_policy.hold()
    _early = threading.Thread(target=_load_early, name="netcanvas-load-torch", daemon=True)
    _early.start()
    return True


def _load_early() -> None:
    finder = _FreezingFinder()
    sys.meta_path.insert(0, finder)
    try:
        preload_torch()  # while the main thread imports the app (no GIL needed)
        _go.wait()
        with _quiet():
            _imports(ANALYSIS_MODULES)
    except Exception:  # noqa: BLE001 - the warm-up job imports again and reports the error
        pass
    finally:
        _core.set()
        sys.meta_path.remove(finder)


def let_torch_load(timeout: float = 5.0) -> None:
    """The window is built, not yet shown: let the early thread import torch, and wait until
    its extension module is initialised (see `start_loading_torch`)."""
    if _early is not None:
        _go.set()
        _core.wait(timeout)


def join_early() -> bool:
    """Wait for `start_loading_torch`'s thread (from the warm-up job); True if there was one."""
    if _early is None:
        return False
    _go.set()
    _early.join()
    return True


def early_done() -> None:
    """On the GUI thread once the warm-up has joined the early thread: collection resumes."""
    global _early
    if _early is not None and not _early.is_alive():
        from builder import gc_policy

        _early = None
        gc_policy.release()


def _imports(names: Iterable[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue  # an optional library: the feature that needs it says so
        gc.freeze()


def warm_up(documents: Iterable[Any] = (), report: Callable[[Any], None] | None = None,
            control: Any = None, examples: bool = True) -> int:
    """Import what the app will need, analyse ``documents`` (Qt-free copies) and, with
    ``examples``, the gallery's designs; returns how many designs were analysed. Reports
    `ANALYSIS_READY` once the window's own analysis can run without a stall. Stops between
    steps when ``control`` says so."""
    say = report or (lambda _event: None)
    finder = _FreezingFinder()  # first analyses import lazily too (the meta kernels' modules)
    sys.meta_path.insert(0, finder)
    try:
        with _quiet():
            return _warm_up(documents, say, control, examples)
    finally:
        sys.meta_path.remove(finder)


_quiet_lock = threading.Lock()
_quiet_count = 0
_quiet_saved: tuple[tuple[int, int, int], float] | None = None


@contextlib.contextmanager
def _quiet():
    """While the warm-up imports and allocates, it keeps out of the GUI thread's way:

    - The GUI thread's collections (`gc_policy` collects when the youngest generation passes
      its threshold) wait: what is allocated is the libraries' objects, frozen as it goes, and
      a collection of them right after torch's extension had held the GIL for ~65 ms made one
      ~100 ms stall of the two.
    - The GIL changes hands every 0.5 ms instead of 5: painting calls Python hundreds of times
      (the style's overrides, paint events), and each call waited for the importing thread's
      turn to end; the gallery's first paint during torch's import took 45–65 ms of the GUI
      thread, 10 ms without the import.

    Both come back after the last of overlapping warm-ups (two windows, the early thread)
    ends, not at the first one's end."""
    global _quiet_count, _quiet_saved
    with _quiet_lock:
        _quiet_count += 1
        if _quiet_count == 1:
            _quiet_saved = gc.get_threshold(), sys.getswitchinterval()
            gc.set_threshold(YOUNG_THRESHOLD_DURING_WARM_UP, *_quiet_saved[0][1:])
            sys.setswitchinterval(min(SWITCH_INTERVAL_DURING_WARM_UP_S, _quiet_saved[1]))
    try:
        yield
    finally:
        gc.freeze()
        with _quiet_lock:
            _quiet_count -= 1
            if _quiet_count == 0 and _quiet_saved is not None:
                gc.set_threshold(*_quiet_saved[0])
                sys.setswitchinterval(_quiet_saved[1])
                _quiet_saved = None


def _warm_up(documents: Iterable[Any], say: Callable[[Any], None], control: Any,
             examples: bool) -> int:
    join_early()
    preload_torch()
    _imports(ANALYSIS_MODULES)
    from builder.analysis import analyse_document

    def analyse(docs: Iterable[Any]) -> int:
        count = 0
        for doc in docs:
            if control is not None and control.stopped:
                break
            analyse_document(doc)
            gc.freeze()
            count += 1
        return count

    count = analyse(documents)
    say(ANALYSIS_READY)
    _imports(PANEL_MODULES)
    if examples:
        count += analyse(example_documents())
    _imports(DATA_MODULES)
    return count


def example_documents() -> list[Any]:
    """The examples of the gallery: what a person opens first. Analysing them once makes later
    analyses of the same layers hit the backend's cache."""
    from graph.examples import list_examples, load_example

    docs = []
    for info in list_examples():
        try:
            docs.append(load_example(info.name))
        except Exception:  # noqa: BLE001 - a broken example must not stop the warm-up
            continue
    return docs

