"""TLS test fixtures (defined in :mod:`tls_support`)."""

from __future__ import annotations

from tls_support import openssl_server_ctx, other_pki, our_tls_server, pki

__all__ = ["openssl_server_ctx", "other_pki", "our_tls_server", "pki"]
