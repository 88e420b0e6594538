"""The link layer: Ethernet II framing and ARP (the learning switch is a node: `node.switch`)."""
