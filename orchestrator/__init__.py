"""The driver side of alphadarts: the CLI, the sweep, retrain and pipeline stages on Ray."""

from orchestrator.cluster.ray_logs import quiet_ray_notices

# before any module of this package imports Ray, which reads the setting once (ray_logs.py)
quiet_ray_notices()
