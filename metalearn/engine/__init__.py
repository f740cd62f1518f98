"""Training, evaluation, checkpoints and whole runs."""
