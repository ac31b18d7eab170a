"""NetCanvas design ResidualCNN: standalone PyTorch code (needs only torch)."""

import torch
import torch.nn.functional as F
from torch import nn


class ResidualCNN(nn.Module):
    """ResidualCNN, designed in NetCanvas.

    Inputs:
        image: (N, 1, 8, 8)
    Outputs:
        digit: (N, 10), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=(3, 3), padding='same')
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=(3, 3), padding='same')
        self.conv3 = nn.Conv2d(16, 16, kernel_size=(3, 3), padding='same')
        self.logits = nn.Linear(256, 10)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.conv1.reset_parameters()
        self.bn1.reset_parameters()
        self.conv2.reset_parameters()
        self.conv3.reset_parameters()
        self.logits.reset_parameters()

    def forward(self, image):
        conv1 = torch.relu(self.conv1(image))
        bn1 = self.bn1(conv1)
        conv2 = torch.relu(self.conv2(bn1))
        conv3 = self.conv3(conv2)
        residual = bn1 + conv3
        relu = torch.relu(residual)
        pool = F.max_pool2d(relu, kernel_size=(2, 2), stride=(2, 2))
        flatten = torch.flatten(pool, 1)
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(flatten)
        return logits

    def predict(self, image):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(image), dim=-1)
