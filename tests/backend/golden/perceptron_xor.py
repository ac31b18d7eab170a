"""NetCanvas design PerceptronXOR: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class PerceptronXOR(nn.Module):
    """PerceptronXOR, designed in NetCanvas.

    Inputs:
        x: (N, 2)
    Outputs:
        y: (N, 1), loss mse, metric accuracy
    """

    def __init__(self):
        super().__init__()
        self.unit = nn.Linear(2, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.unit.reset_parameters()
        nn.init.uniform_(self.unit.weight, -0.5, 0.5)
        nn.init.zeros_(self.unit.bias)

    def forward(self, x):
        unit = torch.tanh(self.unit(x))
        return unit
