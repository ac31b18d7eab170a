"""Training-time augmentation of image batches, on the device, vectorised (no per-sample loop)."""

from __future__ import annotations

import torch


def augment_images(x: torch.Tensor, shift: int = 0, noise: float = 0.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image of (N, C, H, W) by up to ``shift`` pixels (zero fill) and add Gaussian
    noise of std ``noise``. Other shapes get noise only."""
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
