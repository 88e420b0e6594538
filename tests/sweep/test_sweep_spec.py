"""A sweep's grid is checked before anything runs: a bad spec is one line and exit 2, and
nothing is started or written; the same run asked two ways is the same cell."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest

from clitools import run_in_process
from minternet.sweep.cells import run_cell
from minternet.sweep.spec import build_spec, load_spec_file, parse_values


def sweep(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``minternet sweep ARGS`` run from ``cwd``, in this interpreter (a usage error needs
    no fresh one: ``tests/test_cli_exits.py`` runs the real process)."""
    with contextlib.chdir(cwd):
        return run_in_process("sweep", *args, check=False)


BAD_FLAGS = [
    (["--seed", "5..1"], "seed: the range 5..1 is empty"),
    (["--seed", "1..x"], "seed: '1..x' is not a range like 1..20"),
    (["--loss", "0,1.5"], "loss: 1.5 is out of range [0, 1]"),
    (["--loss", "0,,0.1"], "loss: empty value in '0,,0.1'"),
    (["--latency", "-3"], "latency: -3 ms is out of range [0, 60000] ms"),
    (["--kex", "rsa,dh"], "kex: 'dh' is not one of ecdhe, rsa"),
    (["--cipher", "NOPE"], "cipher:"),
    (["--kex", "rsa", "--cipher", "ECDHE-RSA-AES128-GCM-SHA256"], "does not use --kex rsa"),
    (["--what", "dig", "--kex", "rsa"], "kex: dig runs do not take it"),
    (["--what", "dig", "--name", "a..b"], "name:"),
    (["--scenario", "meteor"], "scenario: 'meteor' is not one of"),
]


@pytest.mark.parametrize(("args", "message"), BAD_FLAGS)
def test_bad_flags_are_one_line_and_exit_2_before_anything_runs(
    args: list[str], message: str, tmp_path: Path
) -> None:
    proc = sweep(*args, "--out", str(tmp_path / "out"), "--engine", "inline", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()


def test_cc_is_checked_against_what_the_runs_take(tmp_path: Path) -> None:
    proc = sweep("--cc", "x", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line == "minternet: cc: 'x' is not one of newreno, cubic"


def test_cc_varies_the_congestion_controller_of_both_kinds_of_tcp_run() -> None:
    for what, extra in (("tcp-transfer", {"size": [300_000], "loss": [0.02]}), ("fetch", {})):
        spec = build_spec(what, {"cc": ["newreno", "cubic"], **extra})
        rows = {c.get("cc"): run_cell(c) for c in spec.cells}
        assert {r["cc"] for r in rows.values()} == {"newreno", "cubic"}
        assert all(r["status"] == "ok" for r in rows.values())
        if what == "tcp-transfer":  # the controller really changed the run
            assert rows["cubic"]["duration_s"] != rows["newreno"]["duration_s"]
    # a cell that does not set it records the controller the world gave
    (cell,) = build_spec("tcp-transfer", {"size": [1000]}).cells
    assert cell.get("cc") is None and run_cell(cell)["cc"] == "newreno"


def test_tls_values_are_checked_by_the_function_fetch_uses(tmp_path: Path) -> None:
    proc = sweep("--tls", "1.2,1.4", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line == "minternet: tls: --tls '1.4': give 1.2, 1.3 or both"
    spec = build_spec("fetch", {"tls": ["1.2", "1.3"]})
    rows = {c.get("tls"): run_cell(c) for c in spec.cells}
    assert rows["1.2"]["tls_version"] == "TLS 1.2" and rows["1.3"]["tls_version"] == "TLS 1.3"
    # TLS 1.3 saves a round trip: 2 RTTs of handshake after TCP's one, against 3
    assert rows["1.3"]["handshake_s"] < rows["1.2"]["handshake_s"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('what = "fetch"\ncolour = "red"\n', "unknown field 'colour'"),
        ('[grid]\nseeds = "1..3"\n', "unknown field 'seeds'"),
        ('[grid]\nseed = "3..1"\n', "seed: the range 3..1 is empty"),
        ("[grid]\nloss = []\n", "loss: the list is empty"),
        ("[grid]\nloss = [0.1, 2]\n", "loss: 2 is out of range [0, 1]"),
        ('what = "ping"\n', "what: 'ping' is not one of fetch, tcp-transfer, dig"),
        ("[[cells]]\nseed = [1, 2]\n", "one value per listed cell"),
        ("[grid\n", "not TOML"),
    ],
)
def test_bad_spec_files_are_one_line_and_exit_2(toml: str, message: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(toml)
    proc = sweep(str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_spec_file_and_flags_give_the_same_cells(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'what = "fetch"\n[grid]\nseed = "1..3"\nloss = [0, 0.1]\nkex = ["rsa", "ecdhe"]\n'
        "[[cells]]\nseed = 9\nloss = 0.3\n"
    )
    what, grid, listed = load_spec_file(spec)
    from_file = build_spec(what, grid, listed)
    from_flags = build_spec(
        "fetch",
        {
            "seed": parse_values("seed", "1..3"),
            "loss": parse_values("loss", "0,0.1"),
            "kex": parse_values("kex", "rsa,ecdhe"),
        },
        [{"seed": 9, "loss": 0.3}],
    )
    assert from_file.cells == from_flags.cells
    assert len(from_file.cells) == 13
    assert from_file.varied == ("seed", "loss", "kex")


def test_a_cell_is_keyed_by_its_run_not_by_how_it_was_asked() -> None:
    plain = build_spec("fetch", {"seed": [4]}).cells[0]
    explicit = build_spec("fetch", {"seed": [4], "loss": [0.0], "latency": [0]}).cells[0]
    assert plain == explicit and plain.key == explicit.key
    other = build_spec("fetch", {"seed": [4], "loss": [0.05]}).cells[0]
    assert other.key != plain.key
    dig = build_spec("dig", {"seed": [4]}).cells[0]
    assert dig.key != plain.key
    twice = build_spec("fetch", {"seed": [1, 1, 2]})
    assert [c.get("seed") for c in twice.cells] == [1, 2]
