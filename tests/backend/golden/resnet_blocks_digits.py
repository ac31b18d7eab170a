"""NetCanvas design DigitsResNet: standalone PyTorch code (needs only torch)."""

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """Block BasicBlock: (x) → (out), designed in NetCanvas; used as layer1.0, layer1.1, layer2.1."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=(3, 3), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=(3, 3), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def reset_parameters(self):
        """Start every layer afresh, with the initializer defaults of the design."""
        self.conv1.reset_parameters()
        self.bn1.reset_parameters()
        self.conv2.reset_parameters()
        self.bn2.reset_parameters()

    def forward(self, x):
        conv1 = self.conv1(x)
        bn1 = self.bn1(conv1)
        relu1 = torch.relu(bn1)
        conv2 = self.conv2(relu1)
        bn2 = self.bn2(conv2)
        add = bn2 + x
        relu2 = torch.relu(add)
        return relu2


class Projection(nn.Sequential):
    """Block Projection: (x) → (out), designed in NetCanvas; used as layer2.0.downsample."""

    def __init__(self, in_channels, channels, stride):
        super().__init__(
            nn.Conv2d(in_channels, channels, kernel_size=(1, 1), stride=(stride, stride), bias=False),
            nn.BatchNorm2d(channels),
        )

    def reset_parameters(self):
        """Start every layer afresh, with the initializer defaults of the design."""
        self[0].reset_parameters()
        self[1].reset_parameters()


class DownBlock(nn.Module):
    """Block DownBlock: (x) → (out), designed in NetCanvas; used as layer2.0."""

    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=(3, 3), stride=(stride, stride), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=(3, 3), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = Projection(in_channels=in_channels, channels=channels, stride=stride)

    def reset_parameters(self):
        """Start every layer afresh, with the initializer defaults of the design."""
        self.conv1.reset_parameters()
        self.bn1.reset_parameters()
        self.conv2.reset_parameters()
        self.bn2.reset_parameters()
        self.downsample.reset_parameters()

    def forward(self, x):
        conv1 = self.conv1(x)
        bn1 = self.bn1(conv1)
        relu1 = torch.relu(bn1)
        conv2 = self.conv2(relu1)
        bn2 = self.bn2(conv2)
        downsample = self.downsample(x)
        add = bn2 + downsample
        relu2 = torch.relu(add)
        return relu2


class Stage(nn.Sequential):
    """Block Stage: (x) → (out), designed in NetCanvas; used as layer2."""

    def __init__(self, in_channels, channels, stride):
        super().__init__(
            DownBlock(in_channels=in_channels, channels=channels, stride=stride),
            BasicBlock(channels=channels),
        )

    def reset_parameters(self):
        """Start every layer afresh, with the initializer defaults of the design."""
        self[0].reset_parameters()
        self[1].reset_parameters()


class DigitsResNet(nn.Module):
    """DigitsResNet, designed in NetCanvas.

    Inputs:
        image: (N, 1, 8, 8)
    Outputs:
        digit: (N, 10), loss cross_entropy
    """

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, kernel_size=(3, 3), padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(
            BasicBlock(channels=16),
            BasicBlock(channels=16),
        )
        self.layer2 = Stage(in_channels=16, channels=32, stride=2)
        self.fc = nn.Linear(32, 10)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.stem.reset_parameters()
        self.stem_bn.reset_parameters()
        self.layer1[0].reset_parameters()
        self.layer1[1].reset_parameters()
        self.layer2.reset_parameters()
        self.fc.reset_parameters()

    def forward(self, image):
        stem = self.stem(image)
        stem_bn = self.stem_bn(stem)
        stem_relu = torch.relu(stem_bn)
        layer1 = self.layer1(stem_relu)
        layer2 = self.layer2(layer1)
        avgpool = F.adaptive_avg_pool2d(layer2, (1, 1))
        flatten = torch.flatten(avgpool, 1)
        fc = self.fc(flatten)
        return fc
