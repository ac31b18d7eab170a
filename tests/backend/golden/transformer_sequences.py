"""NetCanvas design SequenceTransformer: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class SequenceTransformer(nn.Module):
    """SequenceTransformer, designed in NetCanvas.

    Inputs:
        sequence: (N, 20, 1)
    Outputs:
        label: (N, 2), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(1, 32)
        self.positions = nn.Embedding(20, 32)
        self.encoder = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True)
        self.logits = nn.Linear(32, 2)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        encoder: as its constructor initialised it (PyTorch's own initializers).
        """
        self.embed.reset_parameters()
        self.positions.reset_parameters()
        self.logits.reset_parameters()

    def forward(self, sequence):
        embed = self.embed(sequence)
        positions = embed + self.positions(torch.arange(embed.shape[1], device=embed.device))
        encoder = self.encoder(positions)
        pool = encoder.mean(dim=1)
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(pool)
        return logits

    def predict(self, sequence):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(sequence), dim=-1)
