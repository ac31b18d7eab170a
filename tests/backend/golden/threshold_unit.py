"""NetCanvas design ThresholdUnit: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class ThresholdUnit(nn.Module):
    """ThresholdUnit, designed in NetCanvas.

    Inputs:
        x: (N, 2)
    Outputs:
        y: (N, 1), loss mse, metric accuracy
    """

    def __init__(self):
        super().__init__()
        self.weighted_sum = nn.Linear(2, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.weighted_sum.reset_parameters()

    def forward(self, x):
        weighted_sum = self.weighted_sum(x)
        threshold = torch.sign(weighted_sum)
        return threshold
