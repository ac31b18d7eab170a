"""NetCanvas design DigitsVAE: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class DigitsVAE(nn.Module):
    """DigitsVAE, designed in NetCanvas.

    Inputs:
        image: (N, 1, 8, 8)
    Outputs:
        reconstruction: (N, 1, 8, 8), loss mse
        kl: (N, 1), loss mae, weight 0.002
    """

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Linear(64, 64)
        self.enc2 = nn.Linear(64, 32)
        self.codings_mean = nn.Linear(32, 4)
        self.codings_log_var = nn.Linear(32, 4)
        self.dec1 = nn.Linear(4, 32)
        self.dec2 = nn.Linear(32, 64)
        self.dec3 = nn.Linear(64, 64)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        Layers left at "default" start as in Keras: Glorot-uniform weights, zero biases.
        """
        nn.init.xavier_uniform_(self.enc1.weight)
        nn.init.zeros_(self.enc1.bias)
        nn.init.xavier_uniform_(self.enc2.weight)
        nn.init.zeros_(self.enc2.bias)
        nn.init.xavier_uniform_(self.codings_mean.weight)
        nn.init.zeros_(self.codings_mean.bias)
        nn.init.xavier_uniform_(self.codings_log_var.weight)
        nn.init.zeros_(self.codings_log_var.bias)
        nn.init.xavier_uniform_(self.dec1.weight)
        nn.init.zeros_(self.dec1.bias)
        nn.init.xavier_uniform_(self.dec2.weight)
        nn.init.zeros_(self.dec2.bias)
        nn.init.xavier_uniform_(self.dec3.weight)
        nn.init.zeros_(self.dec3.bias)

    def forward(self, image):
        flatten = torch.flatten(image, 1)
        enc1 = torch.relu(self.enc1(flatten))
        enc2 = torch.relu(self.enc2(enc1))
        codings_mean = self.codings_mean(enc2)
        codings_log_var = self.codings_log_var(enc2)
        codings = codings_mean + torch.exp(0.5 * codings_log_var) * torch.randn_like(codings_mean) if self.training else codings_mean
        codings_kl = -0.5 * torch.sum(1 + codings_log_var - codings_mean * codings_mean - torch.exp(codings_log_var), dim=1, keepdim=True)
        dec1 = torch.relu(self.dec1(codings))
        dec2 = torch.relu(self.dec2(dec1))
        dec3 = torch.sigmoid(self.dec3(dec2))
        pixels = dec3.reshape(dec3.shape[0], 1, 8, 8)
        return pixels, codings_kl
