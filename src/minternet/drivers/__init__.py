"""Drivers: the edge where minternet meets the operating system.

- :mod:`~minternet.drivers.kernel` — the :class:`~minternet.node.api.NetworkStack` API on the
  kernel's own UDP and TCP sockets (our DNS/TLS/HTTP talking to curl, OpenSSL, nginx).
- :mod:`~minternet.drivers.netns` — network namespaces, veth pairs, bridges and TAP devices
  for tests and ``minternet tap``, always cleaned up.
- :mod:`~minternet.drivers.tap` — Ethernet frames to and from a Linux TAP device, so our whole
  stack (Ethernet up) talks to the kernel's TCP/IP.
- :mod:`~minternet.drivers.taphost` — our simulated :class:`~minternet.node.host.Host` cabled
  to a TAP device; :mod:`~minternet.drivers.tapservices` — what ``minternet tap up`` runs on
  it (TCP, DNS, HTTPS, Discard) or fetches with it (``--client``).
- :mod:`~minternet.drivers.interrupt` — SIGTERM/SIGHUP behave like Ctrl-C, so cleanup runs.

Only drivers (and the CLI) may touch sockets, clocks and the OS's randomness.
"""
