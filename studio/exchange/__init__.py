"""Import and export formats. Parsing is pure; the `Studio` facade writes the results."""
