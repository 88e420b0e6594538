"""UDP (RFC 768): the datagram codec and the sockets a host hands to applications."""
