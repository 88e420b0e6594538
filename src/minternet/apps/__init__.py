"""Applications written against a node's API (:mod:`minternet.node.api`): ping, traceroute,
the browser, the web server and the DNS servers."""
