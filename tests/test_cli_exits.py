"""The exit-status policy of every command (``minternet.cli.exits``), as a user meets it:

0 success; 1 the network or protocol outcome failed (with ``--json`` the JSON is still
printed, carrying ``failure``); 2 usage or configuration error. Whatever is not 0 says why
on exactly one stderr line, starting ``minternet``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from clitools import CliRunner, cli_env
from minternet.cli.app import COMMANDS, app, load_command


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    status: int
    says: str = ""  # a piece of the stderr line
    json_failure: bool = False  # --json given: stdout is JSON whose "failure" is set


OK, FAILED, USAGE = 0, 1, 2
OFFICE = Path(__file__).resolve().parent.parent / "examples" / "office.toml"

#: (command, what) → Case. Each command appears with a success, an outcome failure where
#: it has outcomes, and a usage or configuration error.
CASES: dict[str, Case] = {
    "version ok": Case(("version",), OK),
    "version usage": Case(("version", "--bogus"), USAGE, "No such option"),
    "world ok": Case(("world", "--json"), OK),
    "world usage": Case(("world", "--world", "/nonexistent.toml"), USAGE, "/nonexistent.toml"),
    "demo ok": Case(("demo", "--seed", "2"), OK),
    "demo usage": Case(("demo", "--seed", "x"), USAGE, "'x' is not a valid integer"),
    "fetch ok": Case(("fetch", "-q", "--seed", "3"), OK),
    "fetch nxdomain": Case(
        ("fetch", "--scenario", "nxdomain", "--json"), FAILED, json_failure=True
    ),
    "fetch refused": Case(
        ("fetch", "--real", "http://127.0.0.1:1/"), FAILED, "http://127.0.0.1:1/: connection"
    ),
    "fetch usage": Case(("fetch", "--scenario", "nope"), USAGE, "nope"),
    "fetch cc usage": Case(("fetch", "--cc", "bbr"), USAGE, "'bbr' is not one of"),
    "fetch cc real": Case(
        ("fetch", "--real", "--cc", "cubic", "http://127.0.0.1:1/"), USAGE, "--cc chooses"
    ),
    "fetch dhcp-conflict ok": Case(("fetch", "-q", "--scenario", "dhcp-conflict"), OK),
    "fetch dhcp-conflict world file": Case(
        ("fetch", "--scenario", "dhcp-conflict", "--world", str(OFFICE)),
        USAGE,
        "needs the built-in world",
    ),
    "fetch unwritable pcap": Case(
        ("fetch", "--pcap", "/nonexistent/dir/x.pcap"),
        USAGE,
        "/nonexistent/dir/x.pcap: No such file or directory",
    ),
    "fetch unwritable html": Case(
        ("fetch", "-q", "--html", "/nonexistent/dir/x.html"),
        USAGE,
        "/nonexistent/dir/x.html: No such file or directory",
    ),
    "ping ok": Case(("ping", "www.example.com", "-c", "1"), OK),
    "ping no reply": Case(
        ("ping", "10.99.99.99", "-c", "1", "--json"), FAILED, "no reply", json_failure=True
    ),
    "ping usage": Case(("ping",), USAGE, "Missing argument 'TARGET'"),
    "traceroute ok": Case(("traceroute", "www.example.com", "-q", "1"), OK),
    "traceroute not reached": Case(
        ("traceroute", "www.example.com", "-m", "2", "--json"),
        FAILED,
        "not reached within 2 hops",
        json_failure=True,
    ),
    "traceroute usage": Case(("traceroute", "www.example.com", "-m", "0"), USAGE, "--max-hops"),
    "dig ok": Case(("dig", "www.example.com"), OK),
    "dig nxdomain": Case(
        ("dig", "nope.example.com", "--json"), FAILED, "NXDOMAIN", json_failure=True
    ),
    "dig no reply": Case(("dig", "www.example.com", "--stop", "resolver"), FAILED, "no reply"),
    "dig unwritable html": Case(
        ("dig", "www.example.com", "--trace", "--html", "/nonexistent/dir/d.html"),
        USAGE,
        "/nonexistent/dir/d.html: No such file or directory",
    ),
    "dig html without trace": Case(
        ("dig", "www.example.com", "--html", "/tmp/d.html"), USAGE, "--trace"
    ),
    "dig usage": Case(("dig", "www.example.com", "NOTATYPE"), USAGE, "NOTATYPE"),
    "resolve ok": Case(("resolve", "www.example.com"), OK),
    "resolve nxdomain": Case(
        ("resolve", "nope.example.com", "--json"), FAILED, "NXDOMAIN", json_failure=True
    ),
    "resolve usage": Case(("resolve", "www.example.com", "NOTATYPE"), USAGE, "NOTATYPE"),
    "tcp-transfer ok": Case(("tcp-transfer", "--size", "2000"), OK),
    "tcp-transfer no connection": Case(
        ("tcp-transfer", "--size", "10", "--loss", "1", "--json"),
        FAILED,
        "connection to 93.184.216.34:443 failed",
        json_failure=True,
    ),
    "tcp-transfer unwritable html": Case(
        ("tcp-transfer", "--size", "1000", "--html", "/nonexistent/dir/t.html"),
        USAGE,
        "/nonexistent/dir/t.html: No such file or directory",
    ),
    "tcp-transfer usage": Case(("tcp-transfer", "--loss", "2"), USAGE, "--loss"),
    "tcp-transfer config": Case(("tcp-transfer", "--to", "nowhere"), USAGE, "nowhere"),
    "serve ok": Case(("serve", "--http", "0", "--duration", "0.2", "--quiet"), OK),
    "serve usage": Case(("serve", "--http", "0", "--host", "0.0.0.0"), USAGE, "loopback"),
    "tls client refused": Case(
        ("tls", "client", "127.0.0.1", "1", "--no-verify", "--json"),
        FAILED,
        "cannot connect to 127.0.0.1:1",
        json_failure=True,
    ),
    "tls client usage": Case(("tls", "client", "127.0.0.1", "0"), USAGE, "PORT"),
    "tls client early data without a session": Case(
        ("tls", "client", "127.0.0.1", "1", "--early-data", "/etc/hostname"),
        USAGE,
        "--early-data needs --sess-in",
    ),
    "tls client bad session file": Case(
        ("tls", "client", "127.0.0.1", "1", "--sess-in", "/etc/hostname"),
        USAGE,
        "/etc/hostname: not a TLS 1.3 session file",
    ),
    "tls client session with 1.2": Case(
        ("tls", "client", "127.0.0.1", "1", "--tls", "1.2", "--sess-out", "/tmp/x.json"),
        USAGE,
        "TLS 1.3 sessions",
    ),
    "tls server usage": Case(
        (
            "tls",
            "server",
            "0",
            "--cert",
            "/etc/hostname",
            "--key",
            "/etc/hostname",
            "--key",
            "/etc/hostname",
        ),
        USAGE,
        "one --key for each --cert",
    ),
    "sweep ok": Case(
        (
            "sweep",
            "--what",
            "dig",
            "--seed",
            "1..2",
            "--engine",
            "inline",
            "--no-plot",
            "-q",
            "--out",
            str(Path(tempfile.mkdtemp(prefix="minternet-exits-")) / "sweep"),
        ),
        OK,
    ),
    "sweep usage": Case(
        ("sweep", "--seed", "5..1", "--out", "/nonexistent/sweep"), USAGE, "5..1 is empty"
    ),
    "pki usage": Case(("pki", "verify", "/etc/hostname"), USAGE, "--cafile"),
    "tap usage": Case(("tap", "down", "--prefix", "other-"), USAGE, "--prefix"),
    "tap world usage": Case(("tap", "world", "--loss", "2"), USAGE, "--loss"),
}


def check(proc: subprocess.CompletedProcess[str], case: Case) -> None:
    assert proc.returncode == case.status, (proc.returncode, proc.stdout[-500:], proc.stderr)
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    if case.status != OK:
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("minternet"), proc.stderr
        assert case.says in proc.stderr
    if case.json_failure:
        assert json.loads(proc.stdout)["failure"], proc.stdout


@pytest.mark.parametrize("name", list(CASES))
def test_exit_status(name: str, run_cli: CliRunner) -> None:
    """Every case in this interpreter (``run_cli``: ``minternet.cli.main`` with stdout and
    stderr captured and ``SystemExit`` read), where it costs no interpreter start-up."""
    case = CASES[name]
    check(run_cli(*case.args, check=False), case)


#: The cases also run as a real process: its exit code and its one stderr line as a shell
#: sees them (one of each status, and the errors click and ``OSError`` raise).
IN_A_PROCESS = ("version ok", "fetch nxdomain", "demo usage", "fetch unwritable pcap")


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_exit_status_of_the_process(name: str, run_process: CliRunner) -> None:
    case = CASES[name]
    check(run_process(*case.args, check=False), case)


def test_every_command_is_covered() -> None:
    """A new command joins the table above (or this fails); every registered command
    loads under its own name."""
    covered = {CASES[n].args[0] for n in CASES}
    listed = app.list_commands(click.Context(app))
    assert covered == set(listed) == {load_command(n).name for n in COMMANDS}


def test_pki_create_and_verify(run_cli: CliRunner, tmp_path: Path) -> None:
    check(run_cli("pki", "create", str(tmp_path), "--negatives", check=False), Case((), OK))
    ca = ("--cafile", str(tmp_path / "ca.pem"), "--host", "www.example.com")
    wrong_host = str(tmp_path / "bad" / "wrong-host" / "server.pem")
    for chain, extra, case in (
        (str(tmp_path / "server.pem"), (), Case((), OK)),
        (wrong_host, (), Case((), FAILED, "refused")),
        (wrong_host, ("--json",), Case((), FAILED, "refused", json_failure=True)),
    ):
        check(run_cli("pki", "verify", chain, *ca, *extra, check=False), case)
    blocked = tmp_path / "file"
    blocked.write_text("")
    check(
        run_cli("pki", "create", str(blocked / "sub"), check=False),
        Case((), USAGE, f"{blocked / 'sub'}"),
    )


def test_tls_server_and_client(run_cli: CliRunner, tmp_path: Path) -> None:
    """Our client against our server: 0 both; then an untrusted CA: the client exits 1."""
    run_cli("pki", "create", str(tmp_path / "a"))
    # another CA (tests/pki's seed: minted once a run, the run's key cache in tests/conftest)
    run_cli("pki", "create", str(tmp_path / "b"), "--seed", "2026")
    server = subprocess.Popen(
        [sys.executable, "-m", "minternet", "tls", "server", "0", "--max-connections", "2",
         "--cert", str(tmp_path / "a" / "server.pem"), "--key", str(tmp_path / "a" / "server.key")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )  # fmt: skip
    try:
        assert server.stderr is not None
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", server.stderr.readline())
        assert m, "the server did not start"
        port = m.group(1)
        for ca, case in (("a", Case((), OK)), ("b", Case((), FAILED, json_failure=True))):
            cafile = str(tmp_path / ca / "ca.pem")
            args = ("tls", "client", "127.0.0.1", port, "--sni", "www.example.com", "--json")
            check(run_cli(*args, "--cafile", cafile, check=False), case)
        assert server.wait(30) == 0
    finally:
        server.kill()
        server.wait()
        if server.stderr is not None:
            server.stderr.close()


def test_an_unknown_command_is_a_one_line_usage_error(run_process: CliRunner) -> None:
    check(run_process("nosuch", check=False), Case((), USAGE, "No such command 'nosuch'"))


def test_a_port_in_use_names_the_address(run_cli: CliRunner) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("serve", "--http", str(port), "--duration", "1", check=False)
    check(proc, Case((), USAGE, f"127.0.0.1:{port}: Address already in use"))
