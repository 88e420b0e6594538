"""``--world FILE``: the fetch runs in a world the user wrote, and the story follows it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from clitools import CliRunner
from minternet.sim.default_world import DEFAULT_WORLD
from minternet.sim.world import world_toml


def test_one_more_router_one_less_ttl(tmp_path: Path, run_cli: CliRunner) -> None:
    world = copy.deepcopy(DEFAULT_WORLD)
    world["nodes"]["ix"] = {"kind": "router"}
    links = world["links"]
    i = next(i for i, lk in enumerate(links) if {lk["a"], lk["b"]} == {"transit", "dc-router"})
    old = links.pop(i)
    links.insert(
        i,
        {**old, "b": "ix", "b_ip": "192.0.2.6/30"}
        if old["a"] == "transit"
        else {**old, "a": "ix", "a_ip": "192.0.2.6/30"},
    )
    links.insert(
        i + 1,
        {
            "a": "ix",
            "a_ip": "192.0.2.9/30",
            "b": "dc-router",
            "b_ip": "192.0.2.10/30",
            "latency_ms": 2.0,
        },
    )
    path = tmp_path / "longer.toml"
    path.write_text(world_toml(world))
    out = json.loads(run_cli("fetch", "--world", str(path), "--json").stdout)
    assert out["ok"] and out["http"]["status"] == 200
    assert [h["node"] for h in out["hops"]] == [
        "laptop",
        "home-router",
        "isp-router",
        "transit",
        "ix",
        "dc-router",
    ]
    assert [h["ttl"] for h in out["hops"]] == [64, 63, 62, 61, 60, 59]
    text = run_cli("fetch", "--world", str(path)).stdout
    assert "www receives it with TTL 59 = 64 − 5 routers" in text
