"""The stages: one search, the sweep, the retrain, the pipeline, and the door they pass."""
