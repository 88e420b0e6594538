"""The hosts file (``/etc/hosts``, hosts(5)): names the machine resolves without asking DNS.

Each line is an address followed by a canonical name and aliases; ``#`` starts a comment.
Lookups are case-insensitive. Bad lines are skipped and reported in
:attr:`HostsFile.problems`, as resolvers ignore them too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .codes import RType
from .name import BadName, Name


@dataclass
class HostsFile:
    entries: dict[Name, list[tuple[int, str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str, where: str = "hosts") -> HostsFile:
        hosts = cls()
        for lineno, line in enumerate(text.splitlines(), 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) < 2:
                hosts.problems.append(f"{where}:{lineno}: an address without a name")
                continue
            try:
                addr = ipaddress.ip_address(fields[0])
            except ValueError:
                hosts.problems.append(f"{where}:{lineno}: {fields[0]!r} is not an address")
                continue
            rtype = RType.A if addr.version == 4 else RType.AAAA
            for host in fields[1:]:
                try:
                    n = Name.from_text(host)
                except BadName as e:
                    hosts.problems.append(f"{where}:{lineno}: {e}")
                    continue
                hosts.entries.setdefault(n, []).append((rtype, addr.compressed))
        return hosts

    def lookup(self, host: Name, rtype: int = RType.A) -> list[str]:
        return [a for t, a in self.entries.get(host, []) if t == rtype]

    def __contains__(self, host: Name) -> bool:
        return host in self.entries


DEFAULT_HOSTS = """\
127.0.0.1   localhost
::1         localhost ip6-localhost ip6-loopback
192.168.1.10 laptop
"""
