"""``--world FILE``: the fetch runs in a world the user wrote, and the story follows it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from clitools import CliRunner
from minternet.sim.default_world import DEFAULT_WORLD


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):  # an inline table (a_dhcp)
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(v)  # a TOML basic string is a JSON string for these plain values


def to_toml(world: dict[str, Any]) -> str:
    out = []
    for name, spec in world["nodes"].items():
        out.append(f'[nodes."{name}"]')
        out += [f"{k} = {_toml_value(v)}" for k, v in spec.items()]
    for link in world["links"]:
        out.append("[[links]]")
        out += [f"{k} = {_toml_value(v)}" for k, v in link.items()]
    return "\n".join(out) + "\n"


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
    path.write_text(to_toml(world))
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
