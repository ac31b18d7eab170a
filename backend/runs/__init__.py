"""What training made, kept with the project: run folders, checkpoints, the current weights.

`files` reads and writes inside a run folder only (atomic writes, size limits, no symlinks);
`record` parses and validates what a run folder holds; `store` lists and edits the runs of a
folder; `writer` records a running Trainer into its folder; `project` is the project's
trained state (Qt-free). Nothing here imports Qt; torch is imported where tensors are handled.
"""
