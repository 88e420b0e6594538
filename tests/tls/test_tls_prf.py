"""The TLS 1.2 PRF, master secret and key block against published vectors and against
OpenSSL's own TLS1-PRF (``openssl kdf``), an independent implementation."""

from __future__ import annotations

import subprocess

import pytest
from tlslite import mathtls

from minternet.tls.prf import extended_master_secret, key_block, master_secret, prf

# Published on the IETF TLS list (msg03416) and confirmed by the OASIS PKCS#11 list.
SHA256_VECTOR = (
    "9bbe436ba940f017b17652849a71db35",
    "a0ba9f936cda311827a6f796ffd5198c",
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e"
    "14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5"
    "a72e5a5110fff70187347b66",
)


def test_prf_sha256_published_vector() -> None:
    secret, seed, out = (bytes.fromhex(x) for x in SHA256_VECTOR)
    assert prf("sha256", secret, b"test label", seed, 100) == out


def _openssl_prf(digest: str, secret: bytes, label_seed: bytes, n: int) -> bytes:
    res = subprocess.run(
        [
            "openssl", "kdf", "-keylen", str(n), "-kdfopt", f"digest:{digest}",
            "-kdfopt", f"hexsecret:{secret.hex()}", "-kdfopt", f"hexseed:{label_seed.hex()}",
            "TLS1-PRF",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return bytes.fromhex(res.stdout.strip().replace(":", ""))


@pytest.mark.tools("openssl")
@pytest.mark.parametrize("digest", ["sha256", "sha384"])
@pytest.mark.parametrize("n", [1, 12, 48, 104, 148])
def test_prf_matches_openssl_kdf(digest: str, n: int) -> None:
    secret = bytes(range(48))
    seed = bytes(range(100, 164))
    ours = prf(digest, secret, b"key expansion", seed, n)
    assert ours == _openssl_prf(digest.upper(), secret, b"key expansion" + seed, n)


def test_prf_matches_tlslite() -> None:
    secret, seed = b"\x0b" * 48, b"\x0c" * 64
    assert prf("sha256", secret, b"master secret", seed, 48) == bytes(
        mathtls.PRF_1_2(secret, b"master secret", seed, 48)
    )
    assert prf("sha384", secret, b"master secret", seed, 48) == bytes(
        mathtls.PRF_1_2_SHA384(secret, b"master secret", seed, 48)
    )


def test_master_secret_and_key_block() -> None:
    # A recorded TLS 1.2 session (pre-master, randoms, master, key block of an AES-128-CBC-SHA256
    # suite: 2×32 MAC + 2×16 key + 2×16 IV = 128 bytes).
    pms = bytes.fromhex(
        "f8938ecc9edebc5030c0c6a441e213cd24e6f770a50dda07876f8d55da062bcadb386b411fd4fe4313a604fce6c17fbc"
    )
    cr = bytes.fromhex("36c129d01a3200894b9179faac589d9835d58775f9b5ea3587cb8fd0364cae8c")
    sr = bytes.fromhex("f6c9575ed7ddd73e1f7d16eca115415812a43c2b747daaaae043abfb50053fce")
    ms = master_secret("sha256", pms, cr, sr)
    assert ms.hex() == (
        "202c88c00f84a17a20027079604787461176455539e705be730890602c289a5001e34eeb3a043e5d52a65e66125188bf"
    )
    cr2 = bytes.fromhex("62e1fd91f23f558a605f28478c58cf72637b89784d959df7e946d3f07bd1b616")
    sr2 = bytes.fromhex("ae6c806f8ad4d80784549dff28a4b58fd837681a51d928c3e30ee5ff14f39868")
    kb = key_block("sha256", ms, cr2, sr2, 32, 16, 16)
    expected = bytes.fromhex(
        "d06139889fffac1e3a71865f504aa5d0d2a2e89506c6f2279b670c3e1b74f531016a2530c51a3a0f7e1d6590"
        "d0f0566b2f387f8d11fd4f731cdd572d2eae927f6f2f81410b25e6960be68985add6c38445ad9f8c64bf8068"
        "bf9a6679485d966f1ad6f68b43495b10a683755ea2b858d70ccac7ec8b053c6bd41ca299d4e51928"
    )
    parts = b"".join(
        [
            kb.client_write_mac_key,
            kb.server_write_mac_key,
            kb.client_write_key,
            kb.server_write_key,
            kb.client_write_iv,
            kb.server_write_iv,
        ]
    )
    assert parts == expected
    assert len(kb.client_write_mac_key) == 32 and len(kb.server_write_iv) == 16


def test_extended_master_secret_differs_and_matches_tlslite() -> None:
    pms, session_hash = b"\x03\x03" + b"\x01" * 46, b"\x02" * 32
    ems = extended_master_secret("sha256", pms, session_hash)
    assert ems == bytes(mathtls.PRF_1_2(pms, b"extended master secret", session_hash, 48))
    assert ems != master_secret("sha256", pms, session_hash, session_hash)
