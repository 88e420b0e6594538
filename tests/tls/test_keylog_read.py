"""Reading NSS key log lines back: what the report's dissector opens records with."""

from __future__ import annotations

from minternet.tls.keylog import client_random_line, read_key_log


def test_read_key_log_groups_secrets_by_client_random() -> None:
    r1, r2 = bytes(range(32)), bytes(range(1, 33))
    lines = [
        client_random_line(r1, b"\x11" * 48),
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {r2.hex()} {'22' * 32}",
        f"SERVER_TRAFFIC_SECRET_0 {r2.hex()} {'33' * 32}",
        "# a comment line",
        f"CLIENT_RANDOM {r1.hex()}",  # too few fields
        f"CLIENT_RANDOM {r1.hex()} zz",  # not hex
        "",
        f"SERVER_TRAFFIC_SECRET_0 {r2.hex()} {'44' * 32}",  # a later line wins
    ]
    assert read_key_log(lines) == {
        r1: {"CLIENT_RANDOM": b"\x11" * 48},
        r2: {
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET": b"\x22" * 32,
            "SERVER_TRAFFIC_SECRET_0": b"\x44" * 32,
        },
    }
