"""Random edit sequences: after every step the document equals the snapshot for that history index."""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from graph import (
    Document,
    Edge,
    GraphError,
    History,
    MoveNodes,
    Rename,
    SetParams,
    SetTrainable,
    add_node,
    connect,
    delete,
)
from graph.block_edits import (
    BlockRecord,
    DefineBlock,
    InBlock,
    RemoveBlock,
    RenameBlock,
    add_block,
    group,
    ungroup,
)
from graph.blocks import param_spec, ref
from graph.document import Node
from graph.edits import Disconnect
from graph.project import dumps, loads

TYPES = ["Input", "Dense", "ReLU", "Dropout", "Concatenate", "Add", "Output", "Flatten"]
PARAM_CHOICES = {
    "Dense": [("units", [1, 8, 32, 64]), ("activation", ["none", "relu", "tanh"])],
    "Dropout": [("p", [0.1, 0.5])],
    "Concatenate": [("axis", [-1, 1])],
    "Output": [("loss", ["mse", "cross_entropy"]), ("loss_weight", [1.0, 0.5])],
    "Input": [("shape", [(4,), (2, 3)])],
    "Flatten": [("start_dim", [1, 2])],
}
NAMES = ["a", "hidden", "dense_1", "class", "out", "x1", "1bad", "input_1"]
BLOCK_NAMES = ["Stem", "BasicBlock", "Block", "Net", "class"]


def mlp_record(block_id: str, name: str) -> BlockRecord:
    """x → Dense(units = $width) → ReLU → out: a definition with one parameter."""
    return BlockRecord(block_id, name, (param_spec("width", "int", 8, minimum=1, maximum=64),),
                       False,
                       (Node("p1", "BlockInput", "x", {}, (0, 0)),
                        Node("n1", "Dense", "fc", {"units": ref("width")}, (200, 0)),
                        Node("n2", "ReLU", "act", {}, (400, 0)),
                        Node("p2", "BlockOutput", "out", {}, (600, 0))),
                       (Edge("p1", 0, "n1", 0), Edge("n1", 0, "n2", 0), Edge("n2", 0, "p2", 0)))


class EditMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.doc = Document()
        self.history = History(self.doc)
        self.snapshots = [dumps(self.doc)]

    def _push(self, edit):
        before = dumps(self.doc)
        index = self.history.index
        try:
            recorded = self.history.push(edit)
        except GraphError:
            assert dumps(self.doc) == before, "a refused edit must change nothing"
            return
        if not recorded:
            assert dumps(self.doc) == before and self.history.index == index
            return
        del self.snapshots[index + 1:]
        self.snapshots.append(dumps(self.doc))

    def _some(self, data):
        return data.draw(st.sampled_from(self.doc.node_ids()))

    @rule(kind=st.sampled_from(TYPES), x=st.integers(-500, 500), y=st.integers(-500, 500))
    def add(self, kind, x, y):
        self._push(add_node(self.doc, kind, (x, y)))

    @precondition(lambda self: len(self.doc) >= 1)
    @rule(data=st.data())
    def remove(self, data):
        self._push(delete(self.doc, [self._some(data)]))

    @precondition(lambda self: len(self.doc) >= 2)
    @rule(data=st.data(), port=st.integers(0, 2))
    def link(self, data, port):
        src, dst = self._some(data), self._some(data)
        self._push(connect(self.doc, src, dst, dst_port=data.draw(st.sampled_from([None, port]))))

    @precondition(lambda self: self.doc.graph.number_of_edges() >= 1)
    @rule(data=st.data())
    def unlink(self, data):
        self._push(Disconnect(data.draw(st.sampled_from(self.doc.edges()))))

    @precondition(lambda self: len(self.doc) >= 1)
    @rule(data=st.data())
    def set_param(self, data):
        node = self._some(data)
        options = PARAM_CHOICES.get(self.doc.attr(node, "type"))
        if not options:
            return
        key, values = data.draw(st.sampled_from(options))
        self._push(SetParams(node, {key: data.draw(st.sampled_from(values))}))

    @precondition(lambda self: len(self.doc) >= 1)
    @rule(data=st.data(), dx=st.sampled_from([0, 10]))
    def move(self, data, dx):
        node = self._some(data)
        x, y = self.doc.attr(node, "pos")
        self._push(MoveNodes({node: (x + dx, y)}))

    @precondition(lambda self: len(self.doc) >= 1)
    @rule(data=st.data(), name=st.sampled_from(NAMES))
    def rename(self, data, name):
        self._push(Rename(self._some(data), name))

    @precondition(lambda self: len(self.doc) >= 1)
    @rule(data=st.data(), flag=st.booleans())
    def trainable(self, data, flag):
        self._push(SetTrainable(self._some(data), flag))

    # --- blocks ------------------------------------------------------------------------------
    def _block(self, data):
        return data.draw(st.sampled_from(self.doc.block_ids()))

    @rule(name=st.sampled_from(BLOCK_NAMES))
    def define(self, name):
        self._push(DefineBlock(mlp_record(self.doc.new_block_id(), name)))

    @precondition(lambda self: self.doc.block_ids())
    @rule(data=st.data(), width=st.sampled_from([None, 4, 100]), repeat=st.sampled_from([1, 2]))
    def instantiate(self, data, width, repeat):
        block_id = self._block(data)
        values = {} if width is None else {"width": width}
        if "width" not in {p.name for p in self.doc.block(block_id).block_params}:
            values = {}
        where = data.draw(st.sampled_from(["", *self.doc.block_ids()]))
        target = self.doc.block(where) if where else self.doc
        edit = add_block(target, block_id, (0, 0), values=values, repeat=repeat)
        self._push(InBlock(where, edit) if where else edit)

    @precondition(lambda self: len(self.doc) >= 1)
    @rule(data=st.data(), count=st.integers(1, 3), name=st.sampled_from(BLOCK_NAMES))
    def group_some(self, data, count, name):
        ids = self.doc.node_ids()
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=count))
        try:
            edit = group(self.doc, chosen, name)
        except GraphError:
            return
        self._push(edit)

    @precondition(lambda self: self.doc.block_ids())
    @rule(data=st.data())
    def group_inside(self, data):
        inner = self.doc.block(self._block(data))
        if len(inner) == 0:
            return
        chosen = data.draw(st.lists(st.sampled_from(inner.node_ids()), min_size=1, max_size=2))
        try:
            edit = group(inner, chosen)
        except GraphError:
            return
        self._push(edit)

    @precondition(lambda self: any(self.doc.attr(n, "type") == "Block"
                                   for n in self.doc.node_ids()))
    @rule(data=st.data())
    def ungroup_one(self, data):
        blocks = [n for n in self.doc.node_ids() if self.doc.attr(n, "type") == "Block"]
        try:
            edit = ungroup(self.doc, data.draw(st.sampled_from(blocks)))
        except GraphError:
            return
        self._push(edit)

    @precondition(lambda self: self.doc.block_ids())
    @rule(data=st.data(), units=st.sampled_from([3, 16]), use_ref=st.booleans())
    def edit_inside(self, data, units, use_ref):
        block_id = self._block(data)
        inner = self.doc.block(block_id)
        dense = [n for n in inner.node_ids() if inner.attr(n, "type") == "Dense"]
        if dense:
            value = ref("width") if use_ref else units
            self._push(InBlock(block_id, SetParams(data.draw(st.sampled_from(dense)),
                                                   {"units": value})))
        else:
            self._push(InBlock(block_id, add_node(inner, "Dense", (100, 100))))

    @precondition(lambda self: self.doc.block_ids())
    @rule(data=st.data())
    def edit_inside_structure(self, data):
        block_id = self._block(data)
        inner = self.doc.block(block_id)
        if len(inner) >= 2 and data.draw(st.booleans()):
            src, dst = (data.draw(st.sampled_from(inner.node_ids())) for _ in range(2))
            self._push(InBlock(block_id, connect(inner, src, dst)))
        elif len(inner):
            self._push(InBlock(block_id, delete(inner, [data.draw(
                st.sampled_from(inner.node_ids()))])))

    @precondition(lambda self: self.doc.block_ids())
    @rule(data=st.data(), name=st.sampled_from(BLOCK_NAMES))
    def rename_block(self, data, name):
        self._push(RenameBlock(self._block(data), name))

    @precondition(lambda self: self.doc.block_ids())
    @rule(data=st.data())
    def remove_block(self, data):
        self._push(RemoveBlock(self._block(data)))

    @precondition(lambda self: self.history.can_undo())
    @rule()
    def undo(self):
        self.history.undo()

    @precondition(lambda self: self.history.can_redo())
    @rule()
    def redo(self):
        self.history.redo()

    @invariant()
    def matches_snapshot(self):
        text = dumps(self.doc)
        assert text == self.snapshots[self.history.index]
        assert dumps(loads(text)) == text, "a saved design loads back through the same edits"
        for e in self.doc.edges():
            assert isinstance(e, Edge)

    def teardown(self):
        if not hasattr(self, "history"):
            return
        while self.history.can_undo():
            self.history.undo()
        assert dumps(self.doc) == self.snapshots[0]


EditMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50,
                                         deadline=None)
TestEditMachine = EditMachine.TestCase
