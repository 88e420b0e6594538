"""The link layer: Ethernet II framing, ARP, and the learning switch."""
