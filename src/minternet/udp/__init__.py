"""UDP (RFC 768): the datagram codec (a host's UDP sockets are the node's: `node.udp`)."""
