"""The textbook workflows: LR finder, hyperparameter search, cross-validation, transfer, profiling."""
