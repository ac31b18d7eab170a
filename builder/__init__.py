"""NetCanvas's desktop app (PySide6): the only package that imports Qt.

The canvas is a projection of a `graph.Document`: gestures become undo commands that apply
graph edits, the document publishes events, and the scene redraws the items concerned.
"""
