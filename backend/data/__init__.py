"""Data for training: built-in and user data sets as in-memory tensors, split once and mapped
onto a design's Inputs and Outputs. This ``__init__`` imports nothing heavy."""
