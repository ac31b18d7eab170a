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

from graph.block_edits import BlockRecord, DefineBlock, InBlock
from graph.blocks import PARAM_KINDS
from graph.catalogue import BLOCK_STRUCTURE, CATALOGUE, INITIALIZER_DEFAULTS, ParamSpec
from graph.document import SECTIONS, Document, Node
from graph.edits import AddNode, Connect, Edit, json_problem
from graph.errors import GraphError, ParamError, ProjectFormatError
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
_KNOWN_KEYS = {"format", "version", "name", "description", "nodes", "edges", "blocks",
               *SECTIONS}
_NODE_KEYS = {"id", "type", "name", "params", "pos", "trainable"}
_BLOCK_KEYS = {"id", "name", "params", "sequential", "nodes", "edges"}
_PARAM_KEYS = {"name", "kind", "default", "minimum", "maximum", "choices", "doc"}
MAX_BLOCKS = 1000


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


@dataclass(frozen=True)
class BlockData:
    """A parsed block definition (version 2's ``blocks`` section)."""

    id: str
    name: str
    params: tuple[ParamSpec, ...]
    sequential: bool
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]


@dataclass
class ProjectData:
    """A parsed, type-checked project file (not yet checked against the catalogue's rules)."""

    name: str
    description: str
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    blocks: list[BlockData] = field(default_factory=list)


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
    nodes = _parse_nodes(nodes_raw, "$.nodes")
    edges = _parse_edges(edges_raw, "$.edges")
    blocks_raw = _expect(obj.get("blocks", []), list, "$.blocks", "a list")
    if len(blocks_raw) > MAX_BLOCKS:
        raise _fail("$.blocks", f"{len(blocks_raw)} blocks; at most {MAX_BLOCKS} are supported")
    blocks = [_parse_block(raw, f"$.blocks[{i}]") for i, raw in enumerate(blocks_raw)]
    if sum(len(b.nodes) for b in blocks) + len(nodes) > MAX_NODES:
        raise _fail("$.blocks", f"more than {MAX_NODES} nodes in all")
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
    return ProjectData(name, description, nodes, edges, sections, extra, blocks)


def _parse_nodes(nodes_raw: list[Any], where: str) -> list[NodeRecord]:
    nodes: list[NodeRecord] = []
    for i, raw in enumerate(nodes_raw):
        p = f"{where}[{i}]"
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
    return nodes


def _parse_edges(edges_raw: list[Any], where: str) -> list[EdgeRecord]:
    edges: list[EdgeRecord] = []
    for i, raw in enumerate(edges_raw):
        p = f"{where}[{i}]"
        _expect(raw, dict, p, "an edge object")
        for key in ("src", "dst"):
            if key not in raw:
                raise _fail(f"{p}.{key}", "missing")
        src, src_port = _port(raw["src"], f"{p}.src")
        dst, dst_port = _port(raw["dst"], f"{p}.dst")
        edges.append(EdgeRecord(src, src_port, dst, dst_port))
    return edges


def _parse_block(raw: Any, p: str) -> BlockData:
    _expect(raw, dict, p, "a block object")
    unknown = set(raw) - _BLOCK_KEYS
    if unknown:
        raise _fail(f"{p}.{sorted(unknown)[0]}", "unknown block field")
    for key in ("id", "name"):
        if key not in raw:
            raise _fail(f"{p}.{key}", "missing")
    block_id = _text(raw["id"], f"{p}.id", 64)
    if not _ID.match(block_id):
        raise _fail(f"{p}.id", "an id uses letters, digits, '_', '-', '.' (1–64)")
    name = _text(raw["name"], f"{p}.name", 200)
    sequential = _expect(raw.get("sequential", False), bool, f"{p}.sequential", "true or false")
    params = []
    for j, item in enumerate(_expect(raw.get("params", []), list, f"{p}.params", "a list")):
        q = f"{p}.params[{j}]"
        _expect(item, dict, q, "a parameter object")
        unknown = set(item) - _PARAM_KEYS
        if unknown:
            raise _fail(f"{q}.{sorted(unknown)[0]}", "unknown parameter field")
        for key in ("name", "kind", "default"):
            if key not in item:
                raise _fail(f"{q}.{key}", "missing")
        kind = _text(item["kind"], f"{q}.kind", 16)
        if kind not in PARAM_KINDS:
            raise _fail(f"{q}.kind", f"use one of {', '.join(PARAM_KINDS)}")
        bounds = []
        for key in ("minimum", "maximum"):
            value = item.get(key)
            if value is not None:
                _expect(value, (int, float), f"{q}.{key}", "a number")
                if not math.isfinite(value):
                    raise _fail(f"{q}.{key}", "not a finite number")
            bounds.append(value)
        choices = _expect(item.get("choices", []), list, f"{q}.choices", "a list")
        for k, c in enumerate(choices):
            _text(c, f"{q}.choices[{k}]", 200)
        params.append(ParamSpec(_text(item["name"], f"{q}.name", 64), kind, item["default"],
                                _text(item.get("doc", ""), f"{q}.doc"), minimum=bounds[0],
                                maximum=bounds[1], choices=tuple(choices)))
    nodes = _parse_nodes(_expect(raw.get("nodes", []), list, f"{p}.nodes", "a list"),
                         f"{p}.nodes")
    edges = _parse_edges(_expect(raw.get("edges", []), list, f"{p}.edges", "a list"),
                         f"{p}.edges")
    return BlockData(block_id, name, tuple(params), sequential, nodes, edges)


def _migrate(version: int, sections: dict[str, dict[str, Any]]) -> None:
    """Bring an older file's settings to this version (node parameters need nothing: new
    parameters default to what older versions computed)."""
    if version < 2:
        # Version 1 generated PyTorch's own initializers for "default".
        sections["model"] = {"initializers": "pytorch", **sections["model"]}


def build(data: ProjectData) -> Document:
    """Build a document from parsed records, validating every node and edge first; block
    definitions first (all of them, then their contents, so that they may use one another)."""
    doc = Document(class_name(data.name))
    for i, block in enumerate(data.blocks):
        try:
            doc.apply(DefineBlock(BlockRecord(block.id, block.name, block.params,
                                              block.sequential)))
        except GraphError as exc:
            raise _fail(f"$.blocks[{i}]", exc.message) from None
    for i in _fill_order(data.blocks):
        block = data.blocks[i]
        p = f"$.blocks[{i}]"
        _build_graph(doc, block.nodes, block.edges, f"{p}.nodes", f"{p}.edges",
                     lambda edit, b=block.id: InBlock(b, edit))
    _build_graph(doc, data.nodes, data.edges, "$.nodes", "$.edges", lambda edit: edit)
    for key, value in data.sections.items():
        doc._sections[key] = value
    return _finish(doc, data)


def _fill_order(blocks: list[BlockData]) -> list[int]:
    """Definitions to fill, each after the definitions it uses (their ports exist then); a
    loop keeps file order, and the edits refuse it."""
    index = {b.id: i for i, b in enumerate(blocks)}
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int) -> None:
        if state.get(i):
            return
        state[i] = 1
        for rec in blocks[i].nodes:
            child = rec.params.get("block") if rec.type == "Block" else None
            if isinstance(child, str) and child in index and not state.get(index[child]):
                visit(index[child])
        state[i] = 2
        order.append(i)

    for i in range(len(blocks)):
        visit(i)
    return order


def _build_graph(doc: Document, nodes: list[NodeRecord], edges: list[EdgeRecord],
                 node_path: str, edge_path: str, wrap: Any) -> None:
    seen: dict[str, int] = {}
    for i, rec in enumerate(nodes):
        p = f"{node_path}[{i}]"
        if rec.id in seen:
            raise _fail(f"{p}.id", f"duplicate id {rec.id!r} (also at {node_path}[{seen[rec.id]}])")
        seen[rec.id] = i
        if rec.type not in CATALOGUE and rec.type not in BLOCK_STRUCTURE:
            raise _fail(f"{p}.type", f"unknown layer type {rec.type!r}")
        if rec.type in CATALOGUE:
            spec = CATALOGUE[rec.type]
            for key in rec.params:
                if not isinstance(key, str) or key not in {ps.name for ps in spec.params}:
                    raise _fail(f"{p}.params.{key}", f"{rec.type} has no parameter {key!r}")
        try:
            doc.apply(wrap(AddNode(Node(rec.id, rec.type, rec.name, rec.params, rec.pos,
                                        rec.trainable))))
        except ParamError as exc:
            raise _fail(f"{p}.params.{exc.param}", exc.message) from None
        except GraphError as exc:
            raise _fail(f"{p}.name", exc.message) from None
    for i, rec in enumerate(edges):
        p = f"{edge_path}[{i}]"
        for end, node_id in (("src", rec.src), ("dst", rec.dst)):
            if node_id not in seen:
                raise _fail(f"{p}.{end}[0]", f"no node with id {node_id!r}")
        edit: Edit = wrap(Connect(Edge(rec.src, rec.src_port, rec.dst, rec.dst_port)))
        try:
            doc.apply(edit)
        except GraphError as exc:
            raise _fail(p, exc.message) from None


def _finish(doc: Document, data: ProjectData) -> Document:
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
    out["nodes"] = _nodes(doc)
    out["edges"] = _edges(doc)
    for key in SECTIONS:
        out[key] = _jsonable(doc.section(key))
    if doc.block_ids():
        out["blocks"] = [_block_dict(doc.block(b)) for b in doc.block_ids()]
    out.update(extra)
    return out


def _nodes(doc: Document) -> list[dict[str, Any]]:
    return [{"id": n.id, "type": n.type, "name": n.name, "params": _jsonable(n.params),
             "pos": [n.pos[0], n.pos[1]], "trainable": n.trainable} for n in doc.nodes()]


def _edges(doc: Document) -> list[dict[str, Any]]:
    return [{"src": [e.src, e.src_port], "dst": [e.dst, e.dst_port]} for e in doc.edges()]


def _param_dict(p: ParamSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "kind": p.kind, "default": p.default}
    if p.minimum is not None:
        out["minimum"] = p.minimum
    if p.maximum is not None:
        out["maximum"] = p.maximum
    if p.choices:
        out["choices"] = list(p.choices)
    if p.doc:
        out["doc"] = p.doc
    return out


def _block_dict(block: Document) -> dict[str, Any]:
    return {"id": block.block_id, "name": block.name, "sequential": block.sequential,
            "params": [_param_dict(p) for p in block.block_params],
            "nodes": _nodes(block), "edges": _edges(block)}


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
        elif key == "blocks" and value:
            lines.append(f" {one(key)}: [\n" + ",\n".join(_block_text(b, one) for b in value)
                         + "\n ]")
        elif isinstance(value, dict) and value:
            body = ",\n".join(f"  {one(k)}: {one(v)}" for k, v in value.items())
            lines.append(f" {one(key)}: {{\n{body}\n }}")
        else:
            lines.append(f" {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _block_text(block: dict[str, Any], one: Any) -> str:
    """A definition: its header on one line, then one node and one edge per line."""
    head = {k: v for k, v in block.items() if k not in ("nodes", "edges")}
    parts = [f"  {one(head)[:-1]}"]
    for key in ("nodes", "edges"):
        items = ",\n".join(f"    {one(item)}" for item in block[key])
        parts.append(f"   {one(key)}: [" + (f"\n{items}\n   ]" if items else "]"))
    return ",\n".join(parts) + "}"


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
