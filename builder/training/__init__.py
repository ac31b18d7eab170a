"""Live training in the app: the panel, the worker thread, the dashboards and the evaluation.

Nothing here imports torch at import time; the backend is loaded when a run (or a preview)
starts. Importing this package does not import the panel either (it needs pyqtgraph): import
`builder.training.panel.TrainingPanel` where it is wanted, so the main window appears first.
"""
