"""NetCanvas design UNetAutoencoder: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class UNetAutoencoder(nn.Module):
    """UNetAutoencoder, designed in NetCanvas.

    Inputs:
        image: (N, 1, 8, 8)
    Outputs:
        reconstruction: (N, 1, 8, 8), loss mse
    """

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(1, 16, kernel_size=(3, 3), padding=1)
        self.enc2 = nn.Conv2d(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=1)
        self.bottleneck = nn.Conv2d(32, 32, kernel_size=(3, 3), padding=1)
        self.up = nn.ConvTranspose2d(32, 16, kernel_size=(2, 2), stride=(2, 2))
        self.dec1 = nn.Conv2d(32, 16, kernel_size=(3, 3), padding=1)
        self.pixels = nn.Conv2d(16, 1, kernel_size=(1, 1))
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        Layers left at "default" start as in Keras: Glorot-uniform weights, zero biases.
        """
        nn.init.xavier_uniform_(self.enc1.weight)
        nn.init.zeros_(self.enc1.bias)
        nn.init.xavier_uniform_(self.enc2.weight)
        nn.init.zeros_(self.enc2.bias)
        nn.init.xavier_uniform_(self.bottleneck.weight)
        nn.init.zeros_(self.bottleneck.bias)
        nn.init.xavier_uniform_(self.up.weight)
        nn.init.zeros_(self.up.bias)
        nn.init.xavier_uniform_(self.dec1.weight)
        nn.init.zeros_(self.dec1.bias)
        nn.init.xavier_uniform_(self.pixels.weight)
        nn.init.zeros_(self.pixels.bias)

    def forward(self, image):
        enc1 = torch.relu(self.enc1(image))
        enc2 = torch.relu(self.enc2(enc1))
        bottleneck = torch.relu(self.bottleneck(enc2))
        up = torch.relu(self.up(bottleneck))
        skip = torch.cat([up, enc1], dim=1)
        dec1 = torch.relu(self.dec1(skip))
        pixels = torch.sigmoid(self.pixels(dec1))
        return pixels
