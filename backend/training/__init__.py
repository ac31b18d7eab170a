"""Training: config, the Trainer loop, typed events, run control, losses, metrics, schedules,
checkpoints and torchrun scale-out. Qt-free; this ``__init__`` imports nothing, so the torch-free
modules (``config``, ``events``, ``control``) stay torch-free."""
