"""Model import: a PyTorch nn.Module (traced with torch.fx) becomes a design."""
