"""The laptop's stub resolver on a stack: :class:`~minternet.dns.stub.StubLookup` driven
through :func:`~minternet.apps.dns_transport.exchange`.

The layers (browser cache, OS cache, hosts file, resolv.conf's servers) and what an answer
means are decided in :mod:`minternet.dns.stub`; this adapter only sends the query the
lookup asks for (one try of resolv.conf's ``timeout``, random id and port, strict
matching, TC → TCP) and reports each exchange as a trace event (kind ``lookup``, layer
``dns``).
"""

from __future__ import annotations

from ..dns.cache import DnsCache
from ..dns.codes import RType, type_name
from ..dns.hosts import HostsFile
from ..dns.name import Name
from ..dns.stub import BrowserCache, ResolvConf, Stub, StubAnswer
from ..node.api import NetworkStack
from .dns_transport import DNS_PORT, exchange, trace_hook


class StubResolver:
    """The resolver library of the laptop, with the browser's cache in front."""

    def __init__(
        self,
        stack: NetworkStack,
        conf: ResolvConf | None = None,
        hosts: HostsFile | None = None,
        os_cache: DnsCache | None = None,
        browser_cache: BrowserCache | None = None,
    ) -> None:
        self.stack = stack
        self.stub = Stub(conf, hosts, os_cache, browser_cache)
        self.random = stack.random.child("dns-stub")
        self._trace = trace_hook(stack)

    async def lookup(self, host: Name | str, qtype: int = RType.A) -> StubAnswer:
        loop = self.stack.loop
        look = self.stub.lookup(host, qtype, loop.now(), self._trace)
        timeout = self.stub.conf.timeout
        while (q := look.next_query()) is not None:
            server = q.server
            base = {"layer": "dns", "name": look.host.to_text(), "qtype": type_name(qtype)}
            self._trace(
                loop.now(), "lookup", {**base, "server": server}, f"asking the name server {server}"
            )
            ex = await exchange(
                self.stack, self.random, q.message, (server, DNS_PORT), timeout=timeout, tries=1
            )
            if ex.response is None:
                self._trace(
                    loop.now(),
                    "lookup",
                    {**base, "server": server, "timeout": timeout},
                    "no answer in time",
                )
                look.on_timeout(loop.now())
                continue
            resp = ex.response
            self._trace(
                loop.now(),
                "lookup",
                {
                    **base,
                    "server": server,
                    "rcode": resp.rcode_name,
                    "id": resp.id,
                    "transport": ex.transport,
                    "rtt_ms": round(ex.rtt * 1000, 3),
                    "answers": [r.to_text() for r in resp.answers],
                },
                None,
            )
            look.on_answer(resp, loop.now())
        assert look.result is not None
        return look.result


__all__ = ["StubResolver"]
