"""Small command-line helpers for working on a studio project (`python -m studio.tools.<name>`)."""
