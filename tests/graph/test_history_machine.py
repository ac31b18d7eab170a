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
from graph.edits import Disconnect
from graph.project import dumps

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
        assert dumps(self.doc) == self.snapshots[self.history.index]
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
