"""The Ray Train trainer of the search and the retrain, built as they build it (no Ray
started: the callbacks a run would get are computed on the driver)."""

import pytest

from trainables.config import WorkerResources
from trainables.ray_trainer import torch_trainer


def _callbacks(**runtime) -> list[str]:
    trainer = torch_trainer(lambda config: None, {}, WorkerResources(**runtime), "/nonexistent", "run", 2)
    return [type(callback).__name__ for callback in trainer._create_default_callbacks()]


# Ray Train's dataset callback copies Ray Data's context, whose deprecated fields warn: Ray's
# own business, not this test's
@pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")
def test_a_run_without_ray_datasets_gets_no_dataset_manager():
    """Ray Train's DatasetsCallback starts a DatasetManager actor per run (a process importing
    Ray Data); the loops read their own data, so their runs leave it out."""
    names = _callbacks(num_workers=2)
    assert "DatasetsCallback" not in names
    # the rest of Ray Train's defaults stay: the process group, the placement-group cleaner
    assert {"BackendSetupCallback", "PlacementGroupCleanerCallback", "AcceleratorSetupCallback"} <= set(names)
