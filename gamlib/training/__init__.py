"""Training: what a run is and how it is carried out (config.py: TrainConfig, RunOptions) and the loop (loop.py)."""
