"""NetCanvas design BidirectionalLSTM: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class BidirectionalLSTM(nn.Module):
    """BidirectionalLSTM, designed in NetCanvas.

    Inputs:
        sequence: (N, 20, 1)
    Outputs:
        label: (N, 2), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1)
        self.logits = nn.Linear(64, 2)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.lstm.reset_parameters()
        self.logits.reset_parameters()

    def forward(self, sequence):
        _, (lstm_h_n, _) = self.lstm(sequence)
        lstm_h_n = lstm_h_n.transpose(0, 1)
        top_layer = lstm_h_n[:, -2:]
        final_states = torch.flatten(top_layer, 1)
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(final_states)
        return logits

    def predict(self, sequence):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(sequence), dim=-1)
