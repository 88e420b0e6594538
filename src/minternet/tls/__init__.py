"""TLS 1.2 (RFC 5246): record layer, handshake, certificates and the keys behind them."""
