"""NetCanvas design StackedTransformer: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class EncoderBlock(nn.Module):
    """Block EncoderBlock: (x) → (out), designed in NetCanvas; used as encoder.0, encoder.1."""

    def __init__(self, in_features, width, heads, ff, dropout):
        super().__init__()
        self.attention = nn.MultiheadAttention(in_features, heads, batch_first=True)
        self.drop1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(in_features)
        self.ff1 = nn.Linear(in_features, ff)
        self.drop2 = nn.Dropout(dropout)
        self.ff2 = nn.Linear(ff, width)
        self.drop3 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(in_features)

    def reset_parameters(self):
        """Start every layer afresh, with the initializer defaults of the design."""
        self.norm1.reset_parameters()
        self.ff1.reset_parameters()
        self.ff2.reset_parameters()
        self.norm2.reset_parameters()

    def forward(self, x):
        attention, _ = self.attention(x, x, x, need_weights=False)
        drop1 = self.drop1(attention)
        add1 = x + drop1
        norm1 = self.norm1(add1)
        ff1 = torch.relu(self.ff1(norm1))
        drop2 = self.drop2(ff1)
        ff2 = self.ff2(drop2)
        drop3 = self.drop3(ff2)
        add2 = norm1 + drop3
        norm2 = self.norm2(add2)
        return norm2


class StackedTransformer(nn.Module):
    """StackedTransformer, designed in NetCanvas.

    Inputs:
        sequence: (N, 20, 1)
    Outputs:
        label: (N, 2), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(1, 32)
        self.positions = nn.Embedding(20, 32)
        self.encoder = nn.Sequential(
            EncoderBlock(in_features=32, width=32, heads=4, ff=64, dropout=0.1),
            EncoderBlock(in_features=32, width=32, heads=4, ff=64, dropout=0.1),
        )
        self.logits = nn.Linear(32, 2)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.embed.reset_parameters()
        self.positions.reset_parameters()
        self.encoder[0].reset_parameters()
        self.encoder[1].reset_parameters()
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
