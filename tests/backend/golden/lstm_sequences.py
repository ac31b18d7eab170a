"""NetCanvas design SequenceLSTM: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class SequenceLSTM(nn.Module):
    """SequenceLSTM, designed in NetCanvas.

    Inputs:
        sequence: (N, 20, 1)
    Outputs:
        label: (N, 2), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.logits = nn.Linear(32, 2)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.lstm.reset_parameters()
        self.logits.reset_parameters()

    def forward(self, sequence):
        lstm, _ = self.lstm(sequence)
        lstm = lstm[:, -1]
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(lstm)
        return logits

    def predict(self, sequence):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(sequence), dim=-1)
