"""Drivers: the edge where minternet meets the operating system.

- :mod:`~minternet.drivers.kernel` — the :class:`~minternet.node.api.NetworkStack` API on the
  kernel's own UDP and TCP sockets (our DNS/TLS/HTTP talking to curl, OpenSSL, nginx).
- :mod:`~minternet.drivers.netns` — network namespaces, veth pairs, bridges and TAP devices
  for tests and ``minternet tap``, always cleaned up.
- :mod:`~minternet.drivers.tap` — Ethernet frames to and from a Linux TAP device, so our whole
  stack (Ethernet up) talks to the kernel's TCP/IP.

Only drivers (and the CLI) may touch sockets, clocks and the OS's randomness.
"""
