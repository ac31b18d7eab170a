"""NetCanvas design DigitsMLP: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class DigitsMLP(nn.Module):
    """DigitsMLP, designed in NetCanvas.

    Inputs:
        image: (N, 8, 8)
    Outputs:
        digit: (N, 10), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(64, 300)
        self.hidden2 = nn.Linear(300, 100)
        self.logits = nn.Linear(100, 10)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        Layers left at "default" start as in Keras: Glorot-uniform weights, zero biases.
        """
        nn.init.xavier_uniform_(self.hidden1.weight)
        nn.init.zeros_(self.hidden1.bias)
        nn.init.xavier_uniform_(self.hidden2.weight)
        nn.init.zeros_(self.hidden2.bias)
        nn.init.xavier_uniform_(self.logits.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, image):
        flatten = torch.flatten(image, 1)
        hidden1 = torch.relu(self.hidden1(flatten))
        hidden2 = torch.relu(self.hidden2(hidden1))
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(hidden2)
        return logits

    def predict(self, image):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(image), dim=-1)
