"""NetCanvas's engine, no Qt. Rooms by concept: ``model`` (layer plans, shapes, code generation,
compilation), ``export``, ``importer``, ``data``, ``training``, ``workflows`` and ``cli``.

No package ``__init__`` here imports torch, so the CLI starts fast.
"""
