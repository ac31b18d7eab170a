"""The model: layer plans, shapes on the meta device, code generation, compilation and the allow-list."""
