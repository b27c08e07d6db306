"""Ray and the cluster: starting or joining Ray, resources, storage, run directories and their
locks, where a stage's driver runs."""
