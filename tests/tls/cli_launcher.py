"""Run ``minternet`` in a subprocess with the TLS test doubles of the pki modules installed
when the real ``minternet.tls.signing`` / ``verify`` are not in this checkout yet."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tls_support  # noqa: F401  (registers the doubles only if needed)

from minternet.cli import main

if __name__ == "__main__":
    main(sys.argv[1:])
