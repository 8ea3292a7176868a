"""The pieces of the `Studio` facade, one module per area (assembled in `studio/api.py`)."""
