"""Starting Ray: with no address given, `alphadarts` starts a Ray instance of its own, never
joins one it finds on the machine (ray.init's default joins the newest running instance)."""

import ray

from orchestrator.ray_runtime import ensure_ray


def test_no_address_starts_a_new_local_instance(monkeypatch):
    calls = []

    class Context:
        dashboard_url = "127.0.0.1:1"

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: calls.append(kwargs) or Context())
    ensure_ray(num_cpus=2)
    (kwargs,) = calls
    assert kwargs["address"] == "local" and kwargs["num_cpus"] == 2 and kwargs["include_dashboard"]

    calls.clear()
    ensure_ray("10.0.0.1:6379")  # an address given: that cluster is joined
    assert calls[0]["address"] == "10.0.0.1:6379"
