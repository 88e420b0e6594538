"""TLS test fixtures (defined in :mod:`tls_support`)."""

from __future__ import annotations

from tls_support import openssl_server_ctx, other_pki, pki

__all__ = ["openssl_server_ctx", "other_pki", "pki"]
