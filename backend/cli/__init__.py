"""The ``netcanvas`` sub-commands (no Qt); each module imports torch lazily, inside ``run``."""
