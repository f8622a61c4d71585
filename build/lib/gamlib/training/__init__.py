"""Training: the settings (config.py) and the loop that applies them (loop.py)."""
