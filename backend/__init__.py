"""NetCanvas's engine: shapes, code generation, compilation, data, training, CLI. No Qt.

Sub-modules import torch; this package's ``__init__`` does not, so the CLI starts fast.
"""
