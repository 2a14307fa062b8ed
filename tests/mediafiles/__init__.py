"""Real media files made by the tests themselves (no downloads): builders per kind of media."""
