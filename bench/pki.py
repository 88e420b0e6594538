"""PKI and signing costs against OpenSSL (through ``cryptography``) in the same run.

Run ``python -m bench.pki``. Prints the median of each operation and its ratio to the peer:
our seeded RSA key generation vs OpenSSL's, our seeded RSA-PSS signature and PKCS#1 v1.5
encryption (pure-Python RSA with the CRT) vs OpenSSL's, and our certificate chain
verification vs cryptography's Rust verifier (``x509.verification``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import verification

from minternet.randomness import SeededRandom
from minternet.tls import keygen
from minternet.tls.pki import SIM_EPOCH, Pki
from minternet.tls.signing import SignatureScheme, rsa_pkcs1v15_encrypt, sign
from minternet.tls.verify import verify_server_chain


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(name: str, ours: float, peer: float, peer_name: str) -> None:
    print(
        f"{name:<34} ours {ours * 1e3:9.3f} ms   {peer_name} {peer * 1e3:9.3f} ms   "
        f"ours/peer time {ours / peer:7.1f}x"
    )


def main() -> None:
    counter = iter(range(10**9))

    def our_keygen() -> None:
        keygen._rsa_from_seed.cache_clear()
        keygen.generate_rsa_key(SeededRandom(next(counter)))

    row(
        "RSA-2048 key generation",
        median_seconds(our_keygen, 9),
        median_seconds(lambda: rsa.generate_private_key(65537, 2048), 9),
        "OpenSSL",
    )
    key = keygen.generate_rsa_key(SeededRandom(1))
    data = b"x" * 200
    seeded = SeededRandom(2)
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    row(
        "RSA-PSS-SHA256 sign (seeded salt)",
        median_seconds(lambda: sign(key, SignatureScheme.rsa_pss_rsae_sha256, data, seeded), 200),
        median_seconds(lambda: key.sign(data, pss, hashes.SHA256()), 200),
        "OpenSSL",
    )
    row(
        "RSA PKCS#1 v1.5 sign",
        median_seconds(lambda: sign(key, SignatureScheme.rsa_pkcs1_sha256, data, seeded), 200),
        median_seconds(lambda: key.sign(data, padding.PKCS1v15(), hashes.SHA256()), 200),
        "OpenSSL",
    )
    pub = key.public_key()
    pms = b"\x03\x03" + b"\x00" * 46
    row(
        "RSA PKCS#1 v1.5 encrypt (seeded)",
        median_seconds(lambda: rsa_pkcs1v15_encrypt(pub, pms, seeded), 500),
        median_seconds(lambda: pub.encrypt(pms, padding.PKCS1v15()), 500),
        "OpenSSL",
    )
    pki = Pki.create(SeededRandom(3), SIM_EPOCH)
    creds = pki.issue_server(["www.example.com"])
    der = creds.chain_der()
    trust = pki.trust_store()
    store = verification.Store([pki.root.certificate])

    def peer_verify() -> None:
        leaf, *rest = (x509.load_der_x509_certificate(d) for d in der)
        verifier = (
            verification.PolicyBuilder()
            .store(store)
            .time(SIM_EPOCH)
            .build_server_verifier(verification.DNSName("www.example.com"))
        )
        verifier.verify(leaf, rest)

    row(
        "verify 3-certificate chain",
        median_seconds(lambda: verify_server_chain(der, "www.example.com", SIM_EPOCH, trust), 300),
        median_seconds(peer_verify, 300),
        "cryptography",
    )


if __name__ == "__main__":
    main()
