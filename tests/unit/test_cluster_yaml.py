"""`ray up` has no dry run: check cluster.yaml the way `ray up` itself does before it calls
the cloud (Ray's JSON schema, then `prepare_config` + `validate_config`, the first steps of
`ray.autoscaler._private.commands._bootstrap_config`), and check the layout the project
relies on: drivers on the head, Train workers on spot GPU nodes with an on-demand fallback,
torch and the project installed on every node, no public dashboard port."""

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "cluster.yaml").read_text()
CONFIG = yaml.safe_load(TEXT)


def _schema() -> dict:
    import ray.autoscaler

    return json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


def test_cluster_yaml_matches_rays_schema():
    jsonschema.validate(CONFIG, _schema())


def test_cluster_yaml_passes_rays_config_preparation():
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(CONFIG))
    validate_config(prepared)
    types = prepared["available_node_types"]
    assert prepared["head_node_type"] == "head" and types["head"]["max_workers"] == 0
    # the setup commands reach both kinds of node after Ray merges them
    for kind in ("head_setup_commands", "worker_setup_commands"):
        assert any("pip install" in c and "/home/ray/alphadarts" in c for c in prepared[kind])
        assert any(re.search(r"torch==\S+.*--index-url https://download.pytorch.org/whl/cu\d+", c)
                   for c in prepared[kind])


def test_layout_drivers_on_the_head_train_workers_on_spot_gpus():
    types = CONFIG["available_node_types"]
    head = types[CONFIG["head_node_type"]]
    assert head["resources"] == {"CPU": 0, "driver": 100}
    assert "InstanceMarketOptions" not in head["node_config"]  # the head is on-demand
    workers = {name: t for name, t in types.items() if name != CONFIG["head_node_type"]}
    spot = [n for n, t in workers.items() if t["node_config"].get("InstanceMarketOptions", {}).get("MarketType") == "spot"]
    on_demand = [n for n, t in workers.items() if "InstanceMarketOptions" not in t["node_config"]]
    assert len(spot) == 1 and len(on_demand) == 1
    # spot first: v1 breaks ties by name (highest first), v2 by priority
    assert spot[0] > on_demand[0] and workers[spot[0]]["priority"] > workers[on_demand[0]]["priority"]
    for t in workers.values():
        assert "driver" not in t["resources"] and t["min_workers"] == 0 <= t["max_workers"] <= CONFIG["max_workers"]
    assert CONFIG["docker"]["image"] == "rayproject/ray:2.60.0-py311-gpu"
    assert CONFIG["file_mounts"] == {"/home/ray/alphadarts": "."}


def test_dashboard_has_no_public_port():
    # reached only through `ray dashboard cluster.yaml`: no port opened in the security group
    assert "security_group" not in CONFIG["provider"]
    assert not any("8265" in c or "dashboard-port" in c for c in CONFIG["head_start_ray_commands"])


def test_every_value_to_change_is_marked():
    marked = [line for line in TEXT.splitlines() if "# CHANGE:" in line]
    for what in ("region", "bucket", "instance type", "max workers"):
        assert any(f"CHANGE: {what}" in line for line in marked), what
    for line in TEXT.splitlines():
        if re.match(r"\s*(region|InstanceType|max_workers|Arn):", line):
            assert "# CHANGE:" in line, line


def test_schema_and_preparation_catch_a_broken_config():
    from ray.autoscaler._private.util import prepare_config, validate_config

    broken = copy.deepcopy(CONFIG)
    broken["max_workers"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, _schema())
    broken = copy.deepcopy(CONFIG)
    broken["head_node_type"] = "no_such_type"
    with pytest.raises(ValueError):
        validate_config(prepare_config(broken))
