"""Applications written against a node's API (:mod:`minternet.node.api`): ping, traceroute,
the DNS servers (authoritative, the ISP's recursive resolver) and dig (and later the browser
and the web server)."""
