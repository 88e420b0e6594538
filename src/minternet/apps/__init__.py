"""Applications written against a node's API: ping, traceroute (and later the browser,
the web server and the DNS servers)."""
