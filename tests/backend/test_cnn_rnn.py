"""Scenario 8: the residual CNN reaches ≥ 97 % validation accuracy on 8×8 digits, image
augmentation is a switch that trains, and the LSTM/GRU examples learn the generated sequences."""

import copy

import torch

from backend.data.augment import augment_images
from backend.training.events import Finished
from backend.training.trainer import Trainer
from graph.edits import SetParams
from graph.examples import load_example


def _train(doc, data=None, **training):
    cfg = {**doc.section("training"), "device": "cpu", **training}
    trainer = Trainer(doc, data=data, config=cfg)
    result = trainer.run()
    assert isinstance(result, Finished), result
    (metrics,) = trainer.history[-1]["validation"].values()
    best = max(next(iter(h["validation"].values()))["accuracy"] for h in trainer.history)
    return metrics["accuracy"], best


def test_residual_cnn_reaches_97_percent():
    acc, best = _train(load_example("cnn_residual"), epochs=6)
    print(f"cnn_residual: validation accuracy {acc:.4f} after 6 epochs (best {best:.4f})")
    assert acc >= 0.97


def test_augmentation_switch_trains_the_cnn():
    doc = load_example("cnn_residual")
    data = copy.deepcopy(doc.section("data"))
    data["augment"] = {"shift": 1, "rotate": 10, "noise": 0.05}
    acc, _ = _train(doc, data=data, epochs=5)
    print(f"cnn_residual with shifts, rotations and noise: validation accuracy {acc:.4f} "
          "after 5 epochs")
    assert acc >= 0.9


def test_augment_shifts_whole_images_and_adds_noise():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    gen = torch.Generator().manual_seed(0)
    shifted = augment_images(x, shift=2, generator=gen)
    assert shifted.shape == x.shape
    assert torch.all(shifted.sum((1, 2, 3)) == 4)  # a shift of ≤ 2 keeps the 2×2 block inside
    assert len({tuple(s.nonzero()[0].tolist()) for s in shifted}) > 5  # shifted differently
    noisy = augment_images(x, noise=0.1, generator=gen)
    assert 0.05 < float((noisy - x).std()) < 0.15


def test_rotations_turn_each_image_by_its_own_small_angle():
    from backend.data.augment import rotate_images

    x = torch.zeros(256, 1, 9, 15)  # not square: the aspect ratio must not shear the image
    x[:, :, 4, :] = 1.0  # a horizontal bar through the centre
    gen = torch.Generator().manual_seed(0)
    turned = augment_images(x, rotate=20, generator=gen)
    assert turned.shape == x.shape and torch.isfinite(turned).all()
    assert not torch.equal(turned[0], turned[1])  # each image its own angle
    # The bar stays a line through the centre: its slope (row against column) is within ±20°.
    cols = torch.arange(15.0) - 7
    for image in turned[:32, 0]:
        rows = (image * torch.arange(9.0)[:, None]).sum(0) / image.sum(0).clamp_min(1e-6)
        keep = image.sum(0) > 0.5
        slope = ((rows[keep] - 4) * cols[keep]).sum() / (cols[keep] ** 2).sum()
        assert abs(float(torch.rad2deg(torch.atan(slope)))) <= 21
    assert torch.equal(rotate_images(x, 0.0), x)  # no angle, no change (exact for 0°)


def test_lstm_learns_the_sequence_task():
    acc, best = _train(load_example("lstm_sequences"), epochs=10)
    print(f"lstm_sequences: validation accuracy {acc:.4f} after 10 epochs (best {best:.4f})")
    assert acc >= 0.9  # chance is 0.5


def test_gru_learns_the_sequence_task():
    doc = load_example("lstm_sequences")
    from graph.edits import AddNode, Composite, Connect, RemoveNode
    from graph.events import Edge

    lstm = doc.find("lstm")
    node = doc.node(lstm)
    src, dst = doc.in_edges(lstm)[0].src, doc.out_edges(lstm)[0].dst
    gru = "gru_node"
    doc.apply(Composite((RemoveNode(lstm),
                         AddNode(type(node)(gru, "GRU", "gru", node.params, node.pos)),
                         Connect(Edge(src, 0, gru, 0)), Connect(Edge(gru, 0, dst, 0)))))
    doc.apply(SetParams(gru, {"hidden_size": 32}))
    acc, _ = _train(doc, epochs=10)
    print(f"GRU on sequences: validation accuracy {acc:.4f} after 10 epochs")
    assert acc >= 0.9
