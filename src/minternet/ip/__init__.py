"""IPv4 (RFC 791), ICMP (RFC 792) and the routing table with longest-prefix match."""
