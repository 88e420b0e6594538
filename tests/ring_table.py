"""The rings of design.md as the tests check them: which modules are protocol cores, and
what a core may not import (README's "Rings" table says the same in prose).

A core is a codec or a sans-IO machine: bytes, objects and ``now`` in, bytes, objects and
events out. It never imports the event loop, a node, the simulator, the trace bus or its
renderers, a driver, the CLI or an app, nor a module that reads a clock, touches a socket
or a file descriptor, or draws entropy.
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PKG = SRC / "minternet"

# Packages whose every module is a core, and single core modules.
CORE_PACKAGES = ("link", "ip", "udp", "tcp", "tls", "dns", "http", "dhcp")
CORE_MODULES = ("codec", "errors", "checksum", "randomness")

# Ours that no core may load, directly or through another module.
FORBIDDEN_OURS = (
    "minternet.loop",
    "minternet.node",
    "minternet.sim",
    "minternet.trace",
    "minternet.drivers",
    "minternet.apps",
    "minternet.cli",
    "minternet.report",
)

# The standard library a core may not import: clocks, sockets and descriptors, entropy,
# processes and threads, the file system.
FORBIDDEN_STDLIB = (
    "time",
    "socket",
    "select",
    "selectors",
    "asyncio",
    "random",
    "secrets",
    "os",
    "pathlib",
    "io",
    "shutil",
    "tempfile",
    "glob",
    "subprocess",
    "threading",
    "signal",
    "fcntl",
    "mmap",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def core_files() -> list[Path]:
    files = [PKG / f"{m}.py" for m in CORE_MODULES]
    for pkg in CORE_PACKAGES:
        files += sorted((PKG / pkg).rglob("*.py"))
    return files


def core_modules() -> list[str]:
    return [module_name(p) for p in core_files()]


# The rings table of README's Layout section, package by package: what each may import of
# ours (besides itself). ``test_rings.py`` checks every module's imports against it.
BASE = {"codec", "errors", "checksum", "randomness"}
CORES = BASE | set(CORE_PACKAGES)
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "checksum": set(),
    "randomness": set(),
    "codec": {"errors"},
    "ip": BASE,
    "link": BASE | {"ip"},
    "udp": BASE | {"ip"},
    "tcp": BASE,
    "tls": BASE,
    "dns": BASE,
    "http": BASE,
    "dhcp": BASE | {"ip", "link"},
    "loop": set(),
    "trace": CORES,
    "node": CORES | {"loop", "trace"},
    "apps": CORES | {"loop", "trace", "node"},
    "sim": CORES | {"loop", "trace", "node"},
    "report": CORES | {"trace", "apps"},
    "drivers": CORES | {"loop", "trace", "node", "apps"},
    "sweep": CORES | {"loop", "trace", "node", "apps", "sim", "report", "minternet"},
    # ("minternet": the public API, for its version)
    "cli": CORES
    | {"loop", "trace", "node", "apps", "sim", "report", "drivers", "sweep", "minternet"},
}
# Named exceptions: the runs behind `fetch` and `tcp-transfer` build the simulated world
# their apps run in.
# And the driver that runs the simulator's world on the wall clock, with the kernel in it.
MAY_ALSO_IMPORT = {
    ("minternet.apps.fetch_run", "sim"),
    ("minternet.apps.tcp_transfer", "sim"),
    ("minternet.drivers.tapworld", "sim"),
}
