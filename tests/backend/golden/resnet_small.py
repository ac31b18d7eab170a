"""NetCanvas design SmallResNet: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class SmallResNet(nn.Module):
    """SmallResNet, designed in NetCanvas.

    Inputs:
        image: (N, 1, 8, 8)
    Outputs:
        digit: (N, 10), loss cross_entropy, metric accuracy (logits; predict() applies softmax)
    """

    def __init__(self):
        super().__init__()
        self.stem_conv = nn.Conv2d(1, 16, kernel_size=(3, 3), padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.block1a_conv = nn.Conv2d(16, 16, kernel_size=(3, 3), padding=1, bias=False)
        self.block1a_bn = nn.BatchNorm2d(16)
        self.block1b_conv = nn.Conv2d(16, 16, kernel_size=(3, 3), padding=1, bias=False)
        self.block1b_bn = nn.BatchNorm2d(16)
        self.block2a_conv = nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=1, bias=False)
        self.block2a_bn = nn.BatchNorm2d(32)
        self.block2b_conv = nn.Conv2d(32, 32, kernel_size=(3, 3), padding=1, bias=False)
        self.block2b_bn = nn.BatchNorm2d(32)
        self.block2_down_conv = nn.Conv2d(16, 32, kernel_size=(1, 1), stride=(2, 2), bias=False)
        self.block2_down_bn = nn.BatchNorm2d(32)
        self.logits = nn.Linear(32, 10)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.stem_conv.reset_parameters()
        self.stem_bn.reset_parameters()
        self.block1a_conv.reset_parameters()
        self.block1a_bn.reset_parameters()
        self.block1b_conv.reset_parameters()
        self.block1b_bn.reset_parameters()
        self.block2a_conv.reset_parameters()
        self.block2a_bn.reset_parameters()
        self.block2b_conv.reset_parameters()
        self.block2b_bn.reset_parameters()
        self.block2_down_conv.reset_parameters()
        self.block2_down_bn.reset_parameters()
        self.logits.reset_parameters()

    def forward(self, image):
        stem_conv = self.stem_conv(image)
        stem_bn = self.stem_bn(stem_conv)
        stem_relu = torch.relu(stem_bn)
        block1a_conv = self.block1a_conv(stem_relu)
        block1a_bn = self.block1a_bn(block1a_conv)
        block1a_relu = torch.relu(block1a_bn)
        block1b_conv = self.block1b_conv(block1a_relu)
        block1b_bn = self.block1b_bn(block1b_conv)
        block1_add = block1b_bn + stem_relu
        block1_out = torch.relu(block1_add)
        block2a_conv = self.block2a_conv(block1_out)
        block2a_bn = self.block2a_bn(block2a_conv)
        block2a_relu = torch.relu(block2a_bn)
        block2b_conv = self.block2b_conv(block2a_relu)
        block2b_bn = self.block2b_bn(block2b_conv)
        block2_down_conv = self.block2_down_conv(block1_out)
        block2_down_bn = self.block2_down_bn(block2_down_conv)
        block2_add = block2b_bn + block2_down_bn
        block2_out = torch.relu(block2_add)
        pool = block2_out.mean(dim=(2, 3))
        # logits: the loss applies softmax itself; so does predict()
        logits = self.logits(pool)
        return logits

    def predict(self, image):
        """Outputs with their final activation; forward() returns logits for the loss.

        Use it in eval mode under torch.no_grad().
        """
        return torch.softmax(self(image), dim=-1)
