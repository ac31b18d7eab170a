"""The canvas: scene, view, and the graphics items of nodes, ports and edges."""
