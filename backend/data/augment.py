"""Training-time augmentation of image batches, on the device, vectorised (no per-sample loop)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def rotate_images(x: torch.Tensor, degrees: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate each image of (N, C, H, W) about its centre by its own random angle, uniform in
    ±``degrees`` (bilinear, zero fill): one affine grid and one ``grid_sample`` for the batch."""
    n, _, h, w = x.shape
    angle = (torch.rand(n, device=x.device, generator=generator) * 2 - 1) * math.radians(degrees)
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(cos)
    # In the grid's coordinates (-1…1 across each side) a rotation of a non-square image needs
    # the aspect ratio: x' = cos·x − sin·(h/w)·y, y' = sin·(w/h)·x + cos·y.
    theta = torch.stack([torch.stack([cos, -sin * (h / w), zero], 1),
                         torch.stack([sin * (w / h), cos, zero], 1)], 1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_images(x: torch.Tensor, shift: int = 0, noise: float = 0.0,
                   generator: torch.Generator | None = None,
                   rotate: float = 0.0) -> torch.Tensor:
    """Rotate each image of (N, C, H, W) by up to ±``rotate`` degrees, shift it by up to
    ``shift`` pixels (zero fill) and add Gaussian noise of std ``noise``. Other shapes get noise
    only."""
    if rotate and x.dim() == 4:
        x = rotate_images(x, rotate, generator)
    if shift and x.dim() == 4:
        n, _, h, w = x.shape
        padded = torch.nn.functional.pad(x, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (n,), device=x.device, generator=generator)
        dx = torch.randint(0, 2 * shift + 1, (n,), device=x.device, generator=generator)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        chan = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[batch, chan, rows, cols]
    if noise:
        x = x + noise * torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=generator)
    return x
