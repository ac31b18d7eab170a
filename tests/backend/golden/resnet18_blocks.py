"""NetCanvas design ResNet18: standalone PyTorch code (needs only torch)."""

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """Block BasicBlock: (x) → (out), designed in NetCanvas; used as layer1.0, layer1.1, layer2.1, layer3.1 and others."""

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
    """Block Projection: (x) → (out), designed in NetCanvas; used as layer2.0.downsample, layer3.0.downsample, layer4.0.downsample."""

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
    """Block DownBlock: (x) → (out), designed in NetCanvas; used as layer2.0, layer3.0, layer4.0."""

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
    """Block Stage: (x) → (out), designed in NetCanvas; used as layer2, layer3, layer4."""

    def __init__(self, in_channels, channels, stride):
        super().__init__(
            DownBlock(in_channels=in_channels, channels=channels, stride=stride),
            BasicBlock(channels=channels),
        )

    def reset_parameters(self):
        """Start every layer afresh, with the initializer defaults of the design."""
        self[0].reset_parameters()
        self[1].reset_parameters()


class ResNet18(nn.Module):
    """ResNet18, designed in NetCanvas.

    Inputs:
        image: (N, 3, 224, 224)
    Outputs:
        label: (N, 1000), loss cross_entropy
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = nn.Sequential(
            BasicBlock(channels=64),
            BasicBlock(channels=64),
        )
        self.layer2 = Stage(in_channels=64, channels=128, stride=2)
        self.layer3 = Stage(in_channels=128, channels=256, stride=2)
        self.layer4 = Stage(in_channels=256, channels=512, stride=2)
        self.fc = nn.Linear(512, 1000)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for."""
        self.conv1.reset_parameters()
        self.bn1.reset_parameters()
        self.layer1[0].reset_parameters()
        self.layer1[1].reset_parameters()
        self.layer2.reset_parameters()
        self.layer3.reset_parameters()
        self.layer4.reset_parameters()
        self.fc.reset_parameters()

    def forward(self, image):
        conv1 = self.conv1(image)
        bn1 = self.bn1(conv1)
        relu = torch.relu(bn1)
        maxpool = F.max_pool2d(relu, kernel_size=(3, 3), stride=(2, 2), padding=1)
        layer1 = self.layer1(maxpool)
        layer2 = self.layer2(layer1)
        layer3 = self.layer3(layer2)
        layer4 = self.layer4(layer3)
        avgpool = F.adaptive_avg_pool2d(layer4, (1, 1))
        flatten = torch.flatten(avgpool, 1)
        fc = self.fc(flatten)
        return fc
