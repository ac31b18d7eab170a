"""Project files: versioned JSON, parsed into plain records and validated before a document is built.

Any problem raises one `ProjectFormatError` naming the JSON path of the bad field. Saving is
atomic: a temporary file in the same folder, fsync, `os.replace`.

Versions: 1 is the first format; 2 adds the ``model`` section (the initializer defaults,
``pytorch`` or ``keras``), int / per-dimension convolution padding, optional (null) parameters,
new layer types and layers with several outputs. A version-1 file loads unchanged: its layers
take the new parameters at their defaults (which reproduce what version 1 computed) and its
``model`` section says ``pytorch``, what version 1 generated.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.catalogue import CATALOGUE, INITIALIZER_DEFAULTS
from graph.document import SECTIONS, Document, Node
from graph.edits import AddNode, Connect, json_problem
from graph.errors import GraphError, ProjectFormatError
from graph.events import Edge
from graph.names import class_name

FORMAT = "netcanvas-project"
VERSION = 2
SUFFIX = ".ncproj.json"
MAX_FILE_BYTES = 64 << 20
MAX_NODES = 20_000
MAX_EDGES = 100_000
MAX_COORD = 1e7
MAX_TEXT = 10_000
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_KNOWN_KEYS = {"format", "version", "name", "description", "nodes", "edges", *SECTIONS}
_NODE_KEYS = {"id", "type", "name", "params", "pos", "trainable"}


@dataclass(frozen=True)
class NodeRecord:
    id: str
    type: str
    name: str
    params: dict[str, Any]
    pos: tuple[float, float]
    trainable: bool


@dataclass(frozen=True)
class EdgeRecord:
    src: str
    src_port: int
    dst: str
    dst_port: int


@dataclass
class ProjectData:
    """A parsed, type-checked project file (not yet checked against the catalogue's rules)."""

    name: str
    description: str
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


# --- reading ----------------------------------------------------------------------------------

def _fail(path: str, problem: str) -> ProjectFormatError:
    return ProjectFormatError(path, problem)


def _expect(value: Any, kind: type | tuple[type, ...], path: str, what: str) -> Any:
    if isinstance(value, bool) and kind is not bool and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    ):
        raise _fail(path, f"expected {what}, found {json.dumps(value)}")
    if not isinstance(value, kind):
        raise _fail(path, f"expected {what}, found {type(value).__name__.replace('dict', 'object')}")
    return value


def _text(value: Any, path: str, limit: int = MAX_TEXT) -> str:
    _expect(value, str, path, "a text")
    if len(value) > limit:
        raise _fail(path, f"text longer than {limit} characters")
    return value


def _port(value: Any, path: str) -> tuple[str, int]:
    _expect(value, list, path, "[node_id, port]")
    if len(value) != 2:
        raise _fail(path, "expected [node_id, port]")
    node_id = _text(value[0], f"{path}[0]", 64)
    port = _expect(value[1], int, f"{path}[1]", "a port number")
    if not 0 <= port < 1024:
        raise _fail(f"{path}[1]", "port out of range 0–1023")
    return node_id, port


def parse(obj: Any) -> ProjectData:
    """Check the structure and types of a decoded project file."""
    _expect(obj, dict, "$", "a JSON object")
    if obj.get("format") != FORMAT:
        raise _fail("$.format", f"not a NetCanvas project (expected format {FORMAT!r})")
    version = obj.get("version")
    _expect(version, int, "$.version", "a version number")
    if version > VERSION:
        raise _fail("$.version", f"version {version} is newer than this NetCanvas supports "
                                 f"({VERSION}); update NetCanvas")
    if version < 1:
        raise _fail("$.version", "version must be 1 or higher")
    name = _text(obj.get("name", "Model"), "$.name", 200)
    description = _text(obj.get("description", ""), "$.description")
    nodes_raw = _expect(obj.get("nodes", []), list, "$.nodes", "a list")
    edges_raw = _expect(obj.get("edges", []), list, "$.edges", "a list")
    if len(nodes_raw) > MAX_NODES:
        raise _fail("$.nodes", f"{len(nodes_raw)} nodes; at most {MAX_NODES} are supported")
    if len(edges_raw) > MAX_EDGES:
        raise _fail("$.edges", f"{len(edges_raw)} edges; at most {MAX_EDGES} are supported")
    nodes: list[NodeRecord] = []
    for i, raw in enumerate(nodes_raw):
        p = f"$.nodes[{i}]"
        _expect(raw, dict, p, "a node object")
        unknown = set(raw) - _NODE_KEYS
        if unknown:
            raise _fail(f"{p}.{sorted(unknown)[0]}", "unknown node field")
        for key in ("id", "type", "name"):
            if key not in raw:
                raise _fail(f"{p}.{key}", "missing")
        node_id = _text(raw["id"], f"{p}.id", 64)
        if not _ID.match(node_id):
            raise _fail(f"{p}.id", "an id uses letters, digits, '_', '-', '.' (1–64)")
        params = _expect(raw.get("params", {}), dict, f"{p}.params", "an object")
        pos_raw = _expect(raw.get("pos", [0, 0]), list, f"{p}.pos", "[x, y]")
        if len(pos_raw) != 2:
            raise _fail(f"{p}.pos", "expected [x, y]")
        pos = []
        for j, c in enumerate(pos_raw):
            _expect(c, (int, float), f"{p}.pos[{j}]", "a number")
            if not math.isfinite(c) or abs(c) > MAX_COORD:
                raise _fail(f"{p}.pos[{j}]", f"coordinate outside ±{MAX_COORD:g}")
            pos.append(float(c))
        trainable = _expect(raw.get("trainable", True), bool, f"{p}.trainable", "true or false")
        nodes.append(NodeRecord(node_id, _text(raw["type"], f"{p}.type", 64),
                                _text(raw["name"], f"{p}.name", 200), dict(params),
                                (pos[0], pos[1]), trainable))
    edges: list[EdgeRecord] = []
    for i, raw in enumerate(edges_raw):
        p = f"$.edges[{i}]"
        _expect(raw, dict, p, "an edge object")
        for key in ("src", "dst"):
            if key not in raw:
                raise _fail(f"{p}.{key}", "missing")
        src, src_port = _port(raw["src"], f"{p}.src")
        dst, dst_port = _port(raw["dst"], f"{p}.dst")
        edges.append(EdgeRecord(src, src_port, dst, dst_port))
    sections = {}
    for key in SECTIONS:
        sections[key] = dict(_expect(obj.get(key, {}), dict, f"$.{key}", "an object"))
    _migrate(version, sections)
    init = sections["model"].get("initializers", "pytorch")
    if init not in INITIALIZER_DEFAULTS:
        raise _fail("$.model.initializers", f"{json.dumps(init)} is not known; use "
                    + " or ".join(json.dumps(c) for c in INITIALIZER_DEFAULTS))
    extra = {k: v for k, v in obj.items() if k not in _KNOWN_KEYS}
    # Settings and unknown keys are kept as they are: they must be values a file can hold again.
    problem = json_problem({**sections, **extra})
    if problem:
        raise _fail(*problem)
    return ProjectData(name, description, nodes, edges, sections, extra)


def _migrate(version: int, sections: dict[str, dict[str, Any]]) -> None:
    """Bring an older file's settings to this version (node parameters need nothing: new
    parameters default to what older versions computed)."""
    if version < 2:
        # Version 1 generated PyTorch's own initializers for "default".
        sections["model"] = {"initializers": "pytorch", **sections["model"]}


def build(data: ProjectData) -> Document:
    """Build a document from parsed records, validating every node and edge first."""
    doc = Document(class_name(data.name))
    seen: dict[str, int] = {}
    for i, rec in enumerate(data.nodes):
        p = f"$.nodes[{i}]"
        if rec.id in seen:
            raise _fail(f"{p}.id", f"duplicate id {rec.id!r} (also at $.nodes[{seen[rec.id]}])")
        seen[rec.id] = i
        if rec.type not in CATALOGUE:
            raise _fail(f"{p}.type", f"unknown layer type {rec.type!r}")
        spec = CATALOGUE[rec.type]
        for key in rec.params:
            if not isinstance(key, str) or key not in {ps.name for ps in spec.params}:
                raise _fail(f"{p}.params.{key}", f"{rec.type} has no parameter {key!r}")
        for key, value in rec.params.items():
            try:
                spec.param(key).validate(value)
            except GraphError as exc:
                raise _fail(f"{p}.params.{key}", exc.message) from None
        try:
            doc.apply(AddNode(Node(rec.id, rec.type, rec.name, rec.params, rec.pos,
                                   rec.trainable)))
        except GraphError as exc:
            raise _fail(f"{p}.name", exc.message) from None
    for i, rec in enumerate(data.edges):
        p = f"$.edges[{i}]"
        for end, node_id in (("src", rec.src), ("dst", rec.dst)):
            if node_id not in seen:
                raise _fail(f"{p}.{end}[0]", f"no node with id {node_id!r}")
        try:
            doc.apply(Connect(Edge(rec.src, rec.src_port, rec.dst, rec.dst_port)))
        except GraphError as exc:
            raise _fail(p, exc.message) from None
    for key, value in data.sections.items():
        doc._sections[key] = value
    doc.extra = dict(data.extra)
    if data.description:
        doc.extra["description"] = data.description
    return doc


def from_dict(obj: Any) -> Document:
    return build(parse(obj))


def loads(text: str | bytes) -> Document:
    if len(text) > MAX_FILE_BYTES:
        raise _fail("$", f"file larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ProjectFormatError:
        raise
    except json.JSONDecodeError as exc:
        raise _fail("$", f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
                    ) from None
    except (RecursionError, ValueError, UnicodeDecodeError) as exc:
        raise _fail("$", f"not readable JSON ({type(exc).__name__})") from None
    return from_dict(obj)


def _reject_constant(name: str) -> Any:
    raise _fail("$", f"{name} is not a valid JSON number")


def load(path: str | os.PathLike[str]) -> Document:
    """Read a project file; every problem is one `ProjectFormatError` naming file and field."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectFormatError("$", f"file larger than {MAX_FILE_BYTES >> 20} MiB",
                                     str(path))
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectFormatError("$", f"cannot read the file ({exc.strerror or exc})",
                                 str(path)) from None
    try:
        return loads(raw)
    except ProjectFormatError as exc:
        raise ProjectFormatError(exc.path, exc.problem, str(path)) from None


# --- writing ----------------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def to_dict(doc: Document) -> dict[str, Any]:
    extra = dict(doc.extra)
    out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": doc.name,
                           "description": extra.pop("description", "")}
    out["nodes"] = [
        {"id": n.id, "type": n.type, "name": n.name, "params": _jsonable(n.params),
         "pos": [n.pos[0], n.pos[1]], "trainable": n.trainable}
        for n in doc.nodes()
    ]
    out["edges"] = [{"src": [e.src, e.src_port], "dst": [e.dst, e.dst_port]}
                    for e in doc.edges()]
    for key in SECTIONS:
        out[key] = _jsonable(doc.section(key))
    out.update(extra)
    return out


def dumps(doc: Document) -> str:
    """The file text: one node and one edge per line, so designs diff well in version control."""
    obj = to_dict(doc)

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    lines = []
    for key, value in obj.items():
        if key in ("nodes", "edges") and value:
            body = ",\n".join(f"  {one(item)}" for item in value)
            lines.append(f" {one(key)}: [\n{body}\n ]")
        elif isinstance(value, dict) and value:
            body = ",\n".join(f"  {one(k)}: {one(v)}" for k, v in value.items())
            lines.append(f" {one(key)}: {{\n{body}\n }}")
        else:
            lines.append(f" {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` so that ``path`` always holds either the old or the new complete file."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    blob = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".{os.getpid()}.tmp",
                               dir=folder)
    try:
        # mkstemp creates 0600 files; give the file the mode it had, or the user's default.
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(doc: Document, path: str | os.PathLike[str]) -> None:
    write_atomic(path, dumps(doc))


_TMP = re.compile(r"^\..+\.(\d+)\.tmp$")


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files left by saves of processes that no longer run."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TMP.match(entry.name)
        if m and not pid_alive(int(m.group(1))):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed
