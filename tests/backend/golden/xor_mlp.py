"""NetCanvas design XorMLP: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class XorMLP(nn.Module):
    """XorMLP, designed in NetCanvas.

    Inputs:
        x: (N, 2)
    Outputs:
        y: (N, 1), loss mse, metric accuracy
    """

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.unit = nn.Linear(4, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.hidden.reset_parameters()
        self.unit.reset_parameters()

    def forward(self, x):
        hidden = torch.tanh(self.hidden(x))
        unit = torch.tanh(self.unit(hidden))
        return unit
