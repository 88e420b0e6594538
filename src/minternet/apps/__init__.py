"""Applications written against a node's API (:mod:`minternet.node.api`): ping, traceroute,
the DNS servers (authoritative, the ISP's recursive resolver), dig, the browser and the
nginx-like web server."""
