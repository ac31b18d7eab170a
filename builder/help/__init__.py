"""The Help menu: the project's documentation in the app, the shortcut sheet, About."""
