"""NetCanvas design TanhOneHot: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class TanhOneHot(nn.Module):
    """TanhOneHot, designed in NetCanvas.

    Inputs:
        pixels: (N, 64)
    Outputs:
        digit: (N, 10), loss mse, metric accuracy
    """

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 1024)
        self.scores = nn.Linear(1024, 10)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        Layers left at "default" start as in Keras: Glorot-uniform weights, zero biases.
        """
        nn.init.xavier_uniform_(self.hidden.weight)
        nn.init.zeros_(self.hidden.bias)
        nn.init.xavier_uniform_(self.scores.weight)
        nn.init.zeros_(self.scores.bias)

    def forward(self, pixels):
        hidden = torch.tanh(self.hidden(pixels))
        scores = torch.tanh(self.scores(hidden))
        return scores
