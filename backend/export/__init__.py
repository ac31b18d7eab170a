"""Exports: the .py module, weights as safetensors, ONNX, TorchScript and the training script."""
