"""Memory per design: `netcanvas check` reports it, and a design whose weights cannot be
allocated is refused — by check, export and train — with the figure, not an allocator error."""

from __future__ import annotations

import pytest

from backend.cli.main import main
from backend.model.compiler import compile_document
from backend.model.memory import DesignTooLargeError, check_fits, human_bytes, memory_report
from backend.model.shapes import analyse
from graph import Sketch, project


def _huge():
    s = Sketch("Huge")
    x = s.add("Input", shape=(100000, 100000, 100000), name="volume")
    s.add("Output", s.add("Dense", s.add("Flatten", x), units=10, name="head"), loss="mse")
    return s.doc


def test_report_counts_weights_and_activations():
    s = Sketch("Mlp")
    x = s.add("Input", shape=(784,))
    h = s.add("Dense", x, units=300, activation="relu")
    s.add("Output", s.add("Dense", h, units=10), loss="mse")
    report = memory_report(s.doc, analyse(s.doc))
    assert report.parameters == 784 * 300 + 300 + 3010
    assert report.parameter_bytes == 4 * report.parameters
    assert report.activation_bytes == 4 * (784 + 300 + 10)
    assert report.batch_activation_bytes(32) == 32 * report.activation_bytes
    assert report.largest(1) == [(h, 4 * (784 * 300 + 300))]
    assert human_bytes(1536) == "1.5 KiB" and human_bytes(12) == "12 B"


def test_weights_beyond_memory_are_refused_with_the_figure():
    doc = _huge()
    analysis = analyse(doc)
    assert analysis.ok  # the meta device allocates nothing: the shapes are fine
    with pytest.raises(DesignTooLargeError) as info:
        check_fits(doc, analysis)
    message = info.value.message
    assert "35.5 PiB" in message and "cannot be allocated" in message
    assert "Dense 'head'" in message and info.value.node_ids == (doc.find("head"),)
    with pytest.raises(DesignTooLargeError):
        compile_document(doc, analysis)  # export and training compile: refused before alloc
    small = Sketch("Small")
    s_in = small.add("Input", shape=(1000,))
    small.add("Output", small.add("Dense", s_in, units=1000), loss="mse")
    with pytest.raises(DesignTooLargeError, match="more than this machine's 1.0 MiB"):
        check_fits(small.doc, analyse(small.doc), available=1 << 20)


def test_check_export_and_train_refuse_with_a_message(tmp_path, capsys):
    path = tmp_path / "huge.ncproj.json"
    project.save(_huge(), path)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Memory: weights 35.5 PiB" in out and "cannot be allocated" in out
    assert main(["export", str(path), "-o", str(tmp_path / "huge.py")]) == 1
    err = capsys.readouterr().err
    assert "cannot be allocated" in err and "Traceback" not in err
    assert not (tmp_path / "huge.py").exists()
    assert main(["train", str(path), "--epochs", "1"]) != 0
    captured = capsys.readouterr()
    assert "cannot be allocated" in captured.err + captured.out


def test_check_reports_memory_of_a_good_design(tmp_path, capsys):
    from graph.examples import example_path

    assert main(["check", str(example_path("cnn_residual"))]) == 0
    out = capsys.readouterr().out
    assert "Memory: weights" in out and "per sample" in out and "No errors." in out
    assert "Weights" in out.splitlines()[1]
