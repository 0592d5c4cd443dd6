"""Configuration files of the chapter: parse, edit and lint each format (no I/O)."""
