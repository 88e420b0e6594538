"""Network namespaces, veth pairs, bridges and addresses — created by us, always removed.

``minternet tap`` and the TAP tests put the Linux kernel's side of a conversation in a
network namespace of its own, so the private test subnet (10.77.0.0/24 by default) exists
only there and no packet can leave the machine. Everything is done with iproute2's ``ip``.

Guarantees:

- every name we create starts with :data:`PREFIX` (namespaces ``minternet-…``, links
  ``mnet…``), so :func:`remove_leftovers` (``minternet tap down``) can find what a killed run
  left behind, and never touches anything else;
- a :class:`Namespace` is removed when its ``with`` block ends, at interpreter exit
  (:mod:`atexit`), and on SIGTERM/SIGHUP (which
  :func:`~minternet.drivers.interrupt.signals_as_interrupt` turns into Ctrl-C), with the
  processes still running inside it killed first;
- without root every entry point fails with one clear line (:func:`require_root`).
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ..errors import ConfigError

PREFIX = "minternet-"
LINK_PREFIX = "mnet"
DEFAULT_SUBNET = "10.77.0.0/24"
ETC_NETNS = Path("/etc/netns")  # per-namespace /etc files (ip-netns(8))
_IFNAMSIZ = 15  # Linux interface names are at most 15 bytes


class NetnsError(ConfigError):
    """A namespace or link operation failed (the ``ip`` command said why)."""


def is_root() -> bool:
    return os.geteuid() == 0


def require_root(what: str = "this") -> None:
    """Raise a one-line :class:`ConfigError` unless we run as root with iproute2 present."""
    if not is_root():
        raise ConfigError(
            f"{what} needs root (network namespaces and TAP devices): run it with sudo"
        )
    if shutil.which("ip") is None:
        raise ConfigError(f"{what} needs the 'ip' command (Debian package iproute2)")
    if not os.path.exists("/dev/net/tun"):
        raise ConfigError(f"{what} needs /dev/net/tun (the Linux tun module)")


def ip(*args: str, check: bool = True, timeout: float = 10.0) -> str:
    """Run ``ip ARGS…``; its stdout, or :class:`NetnsError` with its stderr."""
    proc = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()
        raise NetnsError(f"ip {' '.join(args)}: {msg[-1] if msg else 'failed'}")
    return proc.stdout


def unique_suffix() -> str:
    """A short suffix unique to this process and call (pid + counter), for names."""
    global _counter
    with _lock:
        _counter += 1
        n = _counter
    return f"{os.getpid()}x{n}"


_counter = 0
_lock = threading.Lock()


def link_name(role: str, suffix: str | None = None) -> str:
    """An interface name ``mnet<role><suffix>`` cut to the kernel's 15-byte limit."""
    suffix = unique_suffix() if suffix is None else suffix
    name = f"{LINK_PREFIX}{role}{suffix}"
    if len(name) > _IFNAMSIZ:
        name = f"{LINK_PREFIX}{role[:2]}{suffix[-(_IFNAMSIZ - len(LINK_PREFIX) - 2) :]}"
    return name[:_IFNAMSIZ]


def list_namespaces() -> list[str]:
    """Names of every named network namespace (``ip netns list``)."""
    out = ip("-json", "netns", "list", check=False).strip()
    if not out:
        return []
    try:
        return [str(entry["name"]) for entry in json.loads(out)]
    except (ValueError, KeyError, TypeError):
        return [line.split()[0] for line in out.splitlines() if line.strip()]


def list_links(netns: str | None = None) -> list[str]:
    """Interface names in the root namespace or in ``netns``."""
    args = ["-json"] + (["-n", netns] if netns else []) + ["link", "show"]
    out = ip(*args, check=False).strip()
    if not out:
        return []
    return [str(link["ifname"]) for link in json.loads(out)]


def _netns_pids(name: str) -> list[int]:
    out = ip("netns", "pids", name, check=False)
    return [int(p) for p in out.split() if p.isdigit()]


@dataclass(frozen=True, slots=True)
class Veth:
    """A veth pair: ``outer`` stays where it was made, ``inner`` lives in a namespace."""

    outer: str
    inner: str


class Namespace:
    """A network namespace we created; ``with Namespace() as ns:`` removes it afterwards.

    Links in it are configured with :meth:`add_address`, :meth:`up`; commands run in it
    with :meth:`run` / :meth:`popen` (processes started by :meth:`popen` are killed when
    it is removed, and so is anything else still running inside).
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name if name is not None else f"{PREFIX}{unique_suffix()}"
        if not self.name.startswith(PREFIX):
            raise ConfigError(f"namespace names must start with {PREFIX!r}: {self.name!r}")
        self.created = False
        self._procs: list[subprocess.Popen[Any]] = []
        self._outer_links: list[str] = []  # our links in the root namespace

    # -- life cycle -------------------------------------------------------------------
    def create(self) -> Self:
        require_root("a network namespace")
        ip("netns", "add", self.name)
        self.created = True
        _registry.add(self)
        try:
            self.up("lo")
            # keep the kernel side quiet and predictable: no IPv6 chatter on test links
            self.sysctl("net.ipv6.conf.all.disable_ipv6", "1")
            self.sysctl("net.ipv6.conf.default.disable_ipv6", "1")
        except Exception:
            self.remove()
            raise
        return self

    def remove(self) -> None:
        """Kill what runs inside, delete the namespace (and the links that live in it)."""
        _registry.discard(self)
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        self._procs.clear()
        if not self.created:
            return
        self.created = False
        _kill_inside(self.name)
        # the kernel deletes a namespace's links asynchronously; ours outside go now
        for link in self._outer_links:
            ip("link", "del", link, check=False)
        self._outer_links.clear()
        ip("netns", "del", self.name, check=False)
        shutil.rmtree(ETC_NETNS / self.name, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.create()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    # -- configuration ----------------------------------------------------------------
    def ip(self, *args: str, check: bool = True) -> str:
        """``ip -n NAME ARGS…``."""
        return ip("-n", self.name, *args, check=check)

    def up(self, ifname: str) -> None:
        self.ip("link", "set", ifname, "up")

    def add_address(self, ifname: str, cidr: str) -> None:
        """Give ``ifname`` (inside the namespace) an address like ``10.77.0.1/24``."""
        ipaddress.ip_interface(cidr)  # a clear ValueError rather than an ip(8) message
        self.ip("addr", "add", cidr, "dev", ifname)

    def add_route(self, dst: str, via: str) -> None:
        self.ip("route", "add", dst, "via", via)

    def sysctl(self, key: str, value: str) -> None:
        path = "/proc/sys/" + key.replace(".", "/")
        self.run(["sh", "-c", f"echo {value} > {path}"])

    def adopt(self, ifname: str) -> None:
        """Move an interface from the root namespace into this one."""
        ip("link", "set", ifname, "netns", self.name)

    def veth(self, outer: str | None = None, inner: str | None = None) -> Veth:
        """A veth pair with ``inner`` in this namespace and ``outer`` in the root one."""
        suffix = unique_suffix()
        pair = Veth(outer or link_name("vo", suffix), inner or link_name("vi", suffix))
        ip("link", "add", pair.outer, "type", "veth", "peer", "name", pair.inner)
        self._outer_links.append(pair.outer)
        try:
            self.adopt(pair.inner)
        except NetnsError:
            ip("link", "del", pair.outer, check=False)
            raise
        return pair

    def bridge(self, name: str | None = None, ports: Sequence[str] = ()) -> str:
        """A bridge inside this namespace with ``ports`` (already inside) enslaved, up."""
        br = name or link_name("br")
        self.ip("link", "add", br, "type", "bridge")
        for port in ports:
            self.ip("link", "set", port, "master", br)
            self.up(port)
        self.up(br)
        return br

    def netem(
        self,
        ifname: str,
        *,
        loss: float = 0.0,
        delay: float = 0.0,
        rate_mbit: float | None = None,
    ) -> None:
        """Impair frames leaving ``ifname`` (inside the namespace) with ``tc netem``:
        ``loss`` as a probability, ``delay`` in seconds, an optional rate limit."""
        if not 0.0 <= loss <= 1.0 or delay < 0:
            raise ConfigError("netem: loss must be within [0, 1] and delay >= 0")
        if shutil.which("tc") is None:
            raise ConfigError("tc netem needs the 'tc' command (Debian package iproute2)")
        args = ["tc", "qdisc", "replace", "dev", ifname, "root", "netem"]
        if loss:
            args += ["loss", f"{loss * 100:g}%"]
        if delay:
            args += ["delay", f"{delay * 1000:g}ms"]
        if rate_mbit is not None:
            args += ["rate", f"{rate_mbit:g}mbit"]
        self.run(args)

    def bridge_loss(self, ports: Sequence[str], loss: float) -> None:
        """Drop ``loss`` of the frames this namespace's bridges forward from each of ``ports``, with
        nftables (bridge family, forward hook, ``numgen random``) — a lossy cable the
        kernel's TCP cannot tell from the real thing: its own transmission succeeded
        (a drop in its output path or in a qdisc filter would instead be reported back as
        local congestion). Counters per port are read with :meth:`bridge_loss_counters`.
        For kernels without ``sch_netem``; needs the ``nft`` command (package nftables)."""
        if not 0.0 <= loss < 1.0:
            raise ConfigError(f"loss must be within [0, 1): {loss}")
        if shutil.which("nft") is None:
            raise ConfigError("kernel-side loss needs the 'nft' command (Debian package nftables)")
        threshold = round(loss * _NFT_SCALE)
        rules = []
        for port in ports:
            rules.append(f'iifname "{port}" counter comment "seen {port}"')
            rules.append(
                f'iifname "{port}" numgen random mod {_NFT_SCALE} < {threshold} '
                f'counter drop comment "dropped {port}"'
            )
        body = "\n".join(f"    {r}" for r in rules)
        ruleset = (
            f"table bridge {_NFT_TABLE} {{\n  chain forward {{\n"
            f"    type filter hook forward priority 0; policy accept;\n{body}\n  }}\n}}\n"
        )
        self.run(["nft", "-f", "-"], input=ruleset)

    def bridge_loss_counters(self) -> dict[str, tuple[int, int]]:
        """Per port of :meth:`bridge_loss`: (frames seen, frames dropped)."""
        out = self.run(["nft", "-j", "list", "table", "bridge", _NFT_TABLE]).stdout
        seen: dict[str, int] = {}
        dropped: dict[str, int] = {}
        for item in json.loads(out).get("nftables", []):
            rule = item.get("rule") if isinstance(item, dict) else None
            if not isinstance(rule, dict) or "comment" not in rule:
                continue
            kind, _, port = str(rule["comment"]).partition(" ")
            packets = next(
                (int(e["counter"]["packets"]) for e in rule.get("expr", []) if "counter" in e),
                0,
            )
            (seen if kind == "seen" else dropped)[port] = packets
        return {p: (n, dropped.get(p, 0)) for p, n in seen.items()}

    def use_resolver(self, nameserver: str, hosts: dict[str, str] | None = None) -> None:
        """Make programs run by :meth:`run`/:meth:`popen` resolve names with ``nameserver``
        (and optionally a hosts file): ``ip netns exec`` bind-mounts the files of
        ``/etc/netns/NAME/`` over ``/etc/`` for them. Removed with the namespace."""
        ipaddress.IPv4Address(nameserver)
        d = ETC_NETNS / self.name
        d.mkdir(parents=True, exist_ok=True)
        (d / "resolv.conf").write_text(f"nameserver {nameserver}\noptions timeout:2 attempts:2\n")
        lines = ["127.0.0.1 localhost"] + [f"{a} {n}" for n, a in (hosts or {}).items()]
        (d / "hosts").write_text("\n".join(lines) + "\n")

    def links(self) -> list[str]:
        return list_links(self.name)

    # -- processes --------------------------------------------------------------------
    def argv(self, cmd: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(
        self, cmd: Sequence[str], *, check: bool = True, timeout: float = 30.0, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` inside the namespace and wait for it (text output captured)."""
        proc = subprocess.run(
            self.argv(cmd), capture_output=True, text=True, timeout=timeout, check=False, **kw
        )
        if check and proc.returncode != 0:
            err = (proc.stderr or proc.stdout).strip().splitlines()
            raise NetnsError(
                f"{' '.join(cmd)} (in {self.name}) exited {proc.returncode}: "
                f"{err[-1] if err else ''}"
            )
        return proc

    def popen(self, cmd: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``cmd`` inside the namespace; it is killed when the namespace goes."""
        proc: subprocess.Popen[Any] = subprocess.Popen(self.argv(cmd), **kw)
        self._procs.append(proc)
        return proc

    def __repr__(self) -> str:
        return f"Namespace({self.name!r})"


def netem_available() -> bool:
    """Whether this kernel has ``sch_netem`` (containers often lack it): tried on a veth pair
    in a namespace of our own, removed at once."""
    global _netem
    if _netem is None:
        if not is_root() or shutil.which("tc") is None:
            return False
        with Namespace() as ns:
            ns.ip("link", "add", "nm0", "type", "veth", "peer", "name", "nm1")
            try:
                ns.netem("nm0", delay=0.001)
                _netem = True
            except NetnsError:
                _netem = False
    return _netem


_netem: bool | None = None
_NFT_TABLE = "minternet_loss"
_NFT_SCALE = 1_000_000  # loss resolution: one in a million


def nft_available() -> bool:
    """Whether :meth:`Namespace.bridge_loss` works here (the ``nft`` command and the
    kernel's nf_tables with the bridge family): tried in a namespace of our own."""
    global _nft
    if _nft is None:
        if not is_root() or shutil.which("nft") is None:
            return False
        with Namespace() as ns:
            try:
                ns.bridge("mnetnftprobe")
                ns.bridge_loss(["lo"], 0.5)
                ns.bridge_loss_counters()
                _nft = True
            except (NetnsError, ValueError):
                _nft = False
    return _nft


_nft: bool | None = None


def _kill_inside(name: str) -> None:
    """SIGKILL every process still running inside our namespace ``name``."""
    if not name.startswith(PREFIX):
        return
    for pid in _netns_pids(name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def remove_leftovers(prefix: str = PREFIX, link_prefix: str | None = LINK_PREFIX) -> list[str]:
    """Remove every namespace and root-namespace link a killed run of ours left behind.

    Only names starting with ``prefix`` / ``link_prefix`` (which must themselves start with
    ours; ``None``: leave links alone) are touched. Returns what was removed.
    """
    if not prefix.startswith(PREFIX) or not (
        link_prefix is None or link_prefix.startswith(LINK_PREFIX)
    ):
        raise ConfigError(f"only names starting with {PREFIX!r} / {LINK_PREFIX!r} are ours")
    require_root("removing namespaces")
    removed = []
    for name in list_namespaces():
        if name.startswith(prefix):
            _kill_inside(name)
            ip("netns", "del", name, check=False)
            removed.append(name)
    if link_prefix is not None:
        for link in list_links():
            if link.startswith(link_prefix):
                ip("link", "del", link, check=False)
                removed.append(link)
    return removed


class _Registry:
    """Namespaces still alive, removed at exit whatever happens."""

    def __init__(self) -> None:
        self._alive: dict[str, Namespace] = {}
        self._hooked = False

    def add(self, ns: Namespace) -> None:
        with _lock:
            self._alive[ns.name] = ns
            if not self._hooked:
                self._hooked = True
                atexit.register(self.remove_all)

    def discard(self, ns: Namespace) -> None:
        with _lock:
            self._alive.pop(ns.name, None)

    def remove_all(self) -> None:
        for ns in list(reversed(self._alive.values())):
            ns.remove()


_registry = _Registry()
