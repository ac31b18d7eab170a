"""Hyperparameter search: the block is found and rebuilt, a 6-trial search finishes with a
results table, and the best trial opens as an editable design that trains."""

import json

import pytest

from backend.cli.main import main
from backend.model.shapes import analyse
from backend.training.control import Control
from backend.training.events import Finished
from backend.training.trainer import Trainer
from backend.workflows.search import (
    SearchError,
    SearchSettings,
    SearchSpace,
    TrialDone,
    TrialEpoch,
    TrialStarted,
    find_block,
    search,
    trial_document,
)
from graph.examples import example_path, load_example
from graph.sketch import Sketch


def _digits(epochs=3):
    doc = load_example("mlp_digits")
    training = doc.section("training")
    training.update(epochs=epochs, device="cpu", threads=1)
    from graph.edits import SetSection

    doc.apply(SetSection("training", training))
    return doc


def test_block_is_the_dense_chain_before_the_head():
    doc = load_example("mlp_digits")
    block = find_block(doc)
    assert [doc.attr(n, "name") for n in block.layers] == ["hidden1", "hidden2"]
    assert doc.attr(block.entry, "name") == "flatten" and doc.attr(block.head, "name") == "logits"
    named = find_block(doc, ("hidden2",))
    assert named.entry == doc.find("hidden1")
    with pytest.raises(SearchError, match="not in the design"):
        find_block(doc, ("nope",))


@pytest.mark.parametrize("layers", [0, 1, 3])
def test_trial_document_rebuilds_the_block(layers):
    doc = load_example("mlp_digits")
    params = {"hidden_layers": layers, "dropout": 0.25, "lr": 0.01, "optimizer": "adam",
              **{f"units_{i + 1}": 16 * (i + 1) for i in range(layers)}}
    settings = SearchSettings(space=SearchSpace(dropout=(0.0, 0.5), optimizer=("adam",)))
    new = trial_document(doc, params, settings)
    dense = [n.params["units"] for n in new.nodes() if n.type == "Dense"]
    assert sorted(dense) == sorted([10] + [16 * (i + 1) for i in range(layers)])
    assert new.attr(new.find("logits"), "params")["units"] == 10
    assert sum(n.type == "Dropout" for n in new.nodes()) == layers
    assert analyse(new).ok
    assert new.section("training")["optimizer"] == "adam" and "nesterov" not in \
        new.section("training")
    assert len(doc) == 6  # the original design is untouched


def test_six_trial_search_finishes_and_best_opens_as_a_design():
    events = []
    settings = SearchSettings(space=SearchSpace(hidden_layers=(0, 2), units=(32, 64),
                                                lr=(3e-4, 3e-2), batch_size=(32, 64),
                                                optimizer=("adam", "sgd")),
                              trials=6, sampler="random", patience=2, seed=1)
    result = search(_digits(epochs=8), settings, callback=events.append)
    print("\n" + result.table())
    assert len(result.trials) == 6 and result.metric == "accuracy"
    assert {t.state for t in result.trials} <= {"complete", "pruned"}
    best = result.best
    assert best is not None and best.score > 0.85
    assert sum(isinstance(e, TrialStarted) for e in events) == 6
    assert sum(isinstance(e, TrialDone) for e in events) == 6
    assert any(isinstance(e, TrialEpoch) for e in events)
    assert all(len(t.curves[0]) >= 1 for t in result.trials)
    doc = result.best_document()
    hidden = [n for n in doc.nodes() if n.type == "Dense" and n.name != "logits"]
    assert len(hidden) == best.params["hidden_layers"]
    assert doc.section("training")["lr"] == best.params["lr"]
    trainer = Trainer(doc, config={**doc.section("training"), "epochs": 1})
    assert isinstance(trainer.run(), Finished)
    assert "trial" in result.table().splitlines()[0]


def test_cross_validated_trials_report_fold_scores():
    s = Sketch("Iris")
    x = s.add("Input", shape=(4,))
    h = s.add("Dense", x, units=8, activation="relu")
    s.add("Output", s.add("Dense", h, units=3), loss="cross_entropy")
    s.settings("data", dataset="iris").settings(
        "training", epochs=5, batch_size=16, optimizer="adam", lr=0.01, device="cpu", threads=1)
    settings = SearchSettings(space=SearchSpace(hidden_layers=(1, 1), units=(8,), lr=(1e-3, 3e-2)),
                              trials=2, folds=3)
    result = search(s.doc, settings)
    for t in result.trials:
        assert t.state == "complete" and len(t.fold_scores) == 3 and len(t.curves) == 3
        assert t.score == pytest.approx(sum(t.fold_scores) / 3)


def test_stop_ends_the_search_during_a_trial():
    control = Control()

    def stop(event):
        if isinstance(event, TrialEpoch) and event.number == 1:
            control.stop()

    result = search(_digits(epochs=3), {"trials": 5, "units": [16]}, callback=stop,
                    control=control)
    assert result.stopped and len(result.trials) == 2
    assert [t.state for t in result.trials] == ["complete", "stopped"]


def test_bad_settings_are_messages():
    with pytest.raises(ValueError, match="'hidden_layers'"):
        SearchSettings.from_dict({"hidden_layers": [3, 1]})
    with pytest.raises(ValueError, match="unknown key"):
        SearchSettings.from_dict({"layers": 2})
    with pytest.raises(ValueError, match="sampler"):
        SearchSettings.from_dict({"sampler": "grid"})


def test_cli_search_writes_the_best_design(tmp_path, capsys):
    project = tmp_path / "digits.json"
    data = json.loads(example_path("mlp_digits").read_text())
    data["training"].update(epochs=2, search={"hidden_layers": [1, 1], "units": [32],
                                               "lr": [0.01, 0.05]})
    project.write_text(json.dumps(data))
    out = tmp_path / "best.json"
    code = main(["search", str(project), "--trials", "2", "--device", "cpu", "-o", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "best: trial" in text and out.is_file()
    best = json.loads(out.read_text())
    assert sum(n["type"] == "Dense" for n in best["nodes"]) == 2


def _digits_resnet(epochs=1):
    doc = load_example("resnet_blocks_digits")
    training = doc.section("training")
    training.update(epochs=epochs, device="cpu", threads=1)
    from graph.edits import SetSection

    doc.apply(SetSection("training", training))
    return doc


def test_a_blocks_repeat_and_width_are_search_dimensions():
    """The depth of a stage (layer1's repeat) and a block's width (layer2's channels) vary per
    trial; each trial's design has them, and the best opens with its values."""
    doc = _digits_resnet()
    raw = {"hidden_layers": None, "units": None, "lr": None, "trials": 3, "prune": False,
           "sampler": "random", "block_params": {"layer1.repeat": [1, 3],
                                                 "layer2.channels": [8, 24]}}
    settings = SearchSettings.from_dict(raw)
    seen = []

    def check(event):
        if isinstance(event, TrialStarted):
            seen.append(event.params)
            trial = trial_document(doc, event.params, settings)
            layer1, layer2 = trial.find("layer1"), trial.find("layer2")
            assert trial.attr(layer1, "params")["repeat"] == event.params["layer1.repeat"]
            assert trial.attr(layer2, "params")["channels"] == event.params["layer2.channels"]
            shapes = analyse(trial)
            assert shapes.errors == []
            width = event.params["layer2.channels"]
            assert shapes.nodes[layer2].output_shapes[0][1] == width

    result = search(doc, settings, callback=check)
    assert len(seen) == 3 and {p["layer1.repeat"] for p in seen} <= {1, 3}
    assert all(t.state == "complete" for t in result.trials), [t.message for t in result.trials]
    assert "layer1.repeat" in result.table() and "layer2.channels" in result.table()
    best = result.best_document()
    assert best.attr(best.find("layer1"), "params")["repeat"] == result.best.params[
        "layer1.repeat"]
    assert doc.attr(doc.find("layer1"), "params")["repeat"] == 2  # the design is unchanged


def test_block_dimensions_that_do_not_exist_are_messages():
    doc = _digits_resnet()
    base = {"hidden_layers": None, "units": None}
    with pytest.raises(SearchError, match="no block named 'stem'"):
        search(doc, {**base, "block_params": {"stem.repeat": [1, 2]}})
    with pytest.raises(SearchError, match="has no such parameter; it has repeat, channels"):
        search(doc, {**base, "block_params": {"layer1.width": [1, 2]}})
    with pytest.raises(SearchError, match="whole numbers"):
        search(doc, {**base, "block_params": {"layer1.repeat": [1.5]}})
    with pytest.raises(ValueError, match="layer.param"):
        SearchSettings.from_dict({"block_params": {"layer1": [1]}})
