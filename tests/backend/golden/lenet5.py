"""NetCanvas design LeNet5: standalone PyTorch code (needs only torch)."""

import torch
import torch.nn.functional as F
from torch import nn


class LeNet5(nn.Module):
    """LeNet5, designed in NetCanvas.

    Inputs:
        image: (N, 1, 8, 8)
    Outputs:
        digit: (N, 10), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=(5, 5))
        self.c3 = nn.Conv2d(6, 16, kernel_size=(5, 5))
        self.f5 = nn.Linear(400, 120)
        self.f6 = nn.Linear(120, 84)
        self.logits = nn.Linear(84, 10)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        Layers left at "default" start as in Keras: Glorot-uniform weights, zero biases.
        """
        nn.init.xavier_uniform_(self.c1.weight)
        nn.init.zeros_(self.c1.bias)
        nn.init.xavier_uniform_(self.c3.weight)
        nn.init.zeros_(self.c3.bias)
        nn.init.xavier_uniform_(self.f5.weight)
        nn.init.zeros_(self.f5.bias)
        nn.init.xavier_uniform_(self.f6.weight)
        nn.init.zeros_(self.f6.bias)
        nn.init.xavier_uniform_(self.logits.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, image):
        upsample = F.interpolate(image, scale_factor=4.0, mode='bilinear')
        c1 = torch.tanh(self.c1(upsample))
        s2 = F.avg_pool2d(c1, kernel_size=(2, 2), stride=(2, 2))
        c3 = torch.tanh(self.c3(s2))
        s4 = F.avg_pool2d(c3, kernel_size=(2, 2), stride=(2, 2))
        flatten = torch.flatten(s4, 1)
        f5 = torch.tanh(self.f5(flatten))
        f6 = torch.tanh(self.f6(f5))
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(f6)
        return logits

    def predict(self, image):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(image), dim=-1)
