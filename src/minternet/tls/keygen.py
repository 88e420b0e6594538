"""Private keys derived from a seed: same seed, same key, on every machine.

``cryptography`` generates keys from OpenSSL's CSPRNG, which a simulator cannot replay, so the
simulated world's keys are made here from bytes of the injected :class:`RandomSource`:

- RSA (FIPS 186-5 §A.1.3-style): two random odd 1024-bit candidates with the top two bits
  set (so n has exactly 2048 bits), an incremental sieve over small primes, then
  Miller–Rabin (FIPS 186-5 Table B.1: 5 rounds for 1024-bit primes of a 2048-bit key) with
  :func:`pow` and bases from the seed (OpenSSL's test throws out the composites first, the
  seeded stream kept as it was: :func:`_proven_composite`); ``e = 65537``,
  ``d = e⁻¹ mod lcm(p-1, q-1)``, assembled into ``rsa.RSAPrivateNumbers`` for
  ``cryptography`` to use (``openssl rsa -check`` judges the keys in the tests).
- EC: a scalar in ``[1, n-1]`` handed to ``ec.derive_private_key``.

A source that cannot be replayed (the OS's randomness, for the real drivers) makes its RSA
keys itself with OpenSSL's generator (:class:`~minternet.randomness.RsaKeySource`): the
seed expansion above exists for replay, and costs ten times OpenSSL's CPU.

Only the seed (32 bytes drawn from the source) reaches the generator, so the keys of a
deterministic source (:class:`SeededRandom`) are cached per seed in-process: the tests and
the simulator mint the same keys many times. Across processes an edge may lend a
:class:`~minternet.tls.primestore.PrimeStore` (``drivers/keycache.py`` keeps the primes in
files): such a key's ``(p, q)`` is saved there and a later process loads it instead of
searching again (~0.1 CPU s a key), with the same bytes, since the key follows from ``p``
and ``q`` alone. Keys from the OS's entropy are never kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import ConfigError
from ..randomness import RandomSource, RsaKeySource, SeededRandom
from .primestore import prime_store

__all__ = [
    "PUBLIC_EXPONENT",
    "KeyType",
    "generate_ec_key",
    "generate_key",
    "generate_rsa_key",
    "is_probable_prime",
]

KeyType = Literal["rsa", "ecdsa"]
PUBLIC_EXPONENT = 65537
_SIEVE_WINDOW = 4096  # odd candidates examined per sieve pass


def _small_primes(limit: int) -> list[int]:
    flags = bytearray([1]) * (limit + 1)
    flags[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, limit + 1, i)))
    return [i for i in range(3, limit + 1) if flags[i]]


_SMALL_PRIMES = _small_primes(1 << 14)


def is_probable_prime(n: int, rounds: int, random: RandomSource) -> bool:
    """Miller–Rabin with ``rounds`` random bases from ``random`` (FIPS 186-5 §B.3.1)."""
    if n < 2:
        return False
    for p in _SMALL_PRIMES[:50]:
        if n % p == 0:
            return n == p
    if n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = random.randint(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _openssl_composite_test() -> Callable[[int], bool]:
    """OpenSSL's Miller–Rabin (``BN_is_prime_ex``, one round, its own bases) through
    ``cryptography``'s bindings, ~10× faster than :func:`pow` here; where the bindings lack
    it, a test that proves nothing (the Python rounds then decide alone)."""
    try:
        from cryptography.hazmat.bindings.openssl.binding import Binding

        lib, ffi = Binding.lib, Binding.ffi
        hex2bn, is_prime, free = lib.BN_hex2bn, lib.BN_is_prime_ex, lib.BN_free
    except (ImportError, AttributeError):  # a cryptography without these bindings
        return lambda n: False

    def composite(n: int) -> bool:
        box = ffi.new("BIGNUM **")
        digits = b"%x" % n
        if hex2bn(box, digits) != len(digits):
            return False
        try:
            return bool(is_prime(box[0], 1, ffi.NULL, ffi.NULL) == 0)
        finally:
            free(box[0])

    return composite


@functools.cache
def _composite_test() -> Callable[[int], bool]:
    return _openssl_composite_test()


def _proven_composite(n: int) -> bool:
    """Whether a witness shows ``n`` composite. A candidate that passed the sieve is first
    put to OpenSSL's test: "composite" is a proof (a witness was found), whatever base found
    it, and most candidates are composite (~40 for each prime), so only the probable primes
    pay for the seeded Python rounds. The seeded stream is unchanged — the caller draws the
    base the first Python round would have drawn — unless that base is a strong liar for a
    composite, which for random 512- or 1024-bit candidates has probability below 2^-40
    (Damgård–Landrock–Pomerance): then the Python test would have drawn more bases. No
    byte of output comes from OpenSSL's randomness."""
    return _composite_test()(n)


def _random_prime(bits: int, random: RandomSource) -> int:
    """A probable prime of exactly ``bits`` bits with its top two bits set and p ≢ 1 (mod e)."""
    rounds = 5 if bits >= 1024 else 40
    while True:
        start = int.from_bytes(random.random_bytes(bits // 8), "big")
        start |= (0b11 << (bits - 2)) | 1
        start &= (1 << bits) - 1
        # sieve[j] says whether start + 2j has no small factor.
        sieve = bytearray([1]) * _SIEVE_WINDOW
        for p in _SMALL_PRIMES:
            j = (-start % p) * ((p + 1) // 2) % p  # start + 2j ≡ 0 (mod p)
            sieve[j::p] = bytes(len(range(j, _SIEVE_WINDOW, p)))
        for j in range(_SIEVE_WINDOW):
            if not sieve[j]:
                continue
            cand = start + 2 * j
            if cand.bit_length() != bits:
                break
            if cand % PUBLIC_EXPONENT == 1:  # gcd(e, p-1) must be 1 for e prime
                continue
            if _proven_composite(cand):
                # Miller–Rabin's first round would draw its base and find a witness: draw
                # it all the same, so the stream (and the next prime) stays as it was.
                random.randint(2, cand - 2)
                continue
            if is_probable_prime(cand, rounds, random):
                return cand


def _primes_from_seed(seed: bytes, bits: int) -> tuple[int, int]:
    random = SeededRandom(seed, "rsa")
    half = bits // 2
    p = q = 0
    # (p*q always has `bits` bits: both have their top two bits set.)
    while abs(p - q).bit_length() <= half - 100:  # FIPS 186-5 §A.1.3 step 5.4
        p = _random_prime(half, random)
        q = _random_prime(half, random)
    if p < q:
        p, q = q, p
    return p, q


def _plausible(primes: tuple[int, int], bits: int) -> bool:
    """Whether stored primes have the shape :func:`_primes_from_seed` gives (not a primality
    proof: the store vouches for the bytes it saved)."""
    p, q = primes
    half = bits // 2
    top = 0b11 << (half - 2)
    return (
        p > q
        and all(x.bit_length() == half and x & top == top and x % 2 for x in (p, q))
        and (p - q).bit_length() > half - 100
        and p % PUBLIC_EXPONENT != 1 != q % PUBLIC_EXPONENT
    )


@functools.lru_cache(maxsize=256)
def _rsa_from_seed(seed: bytes, bits: int) -> rsa.RSAPrivateKey:
    """The key of a seed drawn from a deterministic source: kept in memory and in the store."""
    store = prime_store()
    stored = store.load(seed, bits) if store is not None else None
    if stored is not None and _plausible(stored, bits):
        p, q = stored
    else:
        p, q = _primes_from_seed(seed, bits)
        if store is not None:
            store.save(seed, bits, p, q)
    return _rsa_key(p, q)


def _rsa_key(p: int, q: int) -> rsa.RSAPrivateKey:
    e = PUBLIC_EXPONENT
    lam = (p - 1) * (q - 1) // _gcd(p - 1, q - 1)
    d = pow(e, -1, lam)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    # p and q passed Miller–Rabin (here, or in the process that stored them) and d, the CRT
    # values and n follow from them, so OpenSSL's RSA_check_key (primality tests again,
    # ~40 ms a key) would only repeat our work; `openssl rsa -check` judges the keys in
    # tests/pki.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


_CURVES: dict[str, ec.EllipticCurve] = {
    "secp256r1": ec.SECP256R1(),
    "secp384r1": ec.SECP384R1(),
}
_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}


def generate_rsa_key(random: RandomSource, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key with ``e = 65537`` determined by 32 bytes drawn from ``random``; from a
    source that cannot be replayed (the OS's, an :class:`RsaKeySource`), the source's own
    key (OpenSSL's generator)."""
    if bits < 1024 or bits % 16:
        raise ConfigError(f"RSA key size {bits} is not supported (a multiple of 16, >= 1024)")
    if not random.deterministic:  # the OS's entropy: a key no one asks for again, never stored
        if isinstance(random, RsaKeySource):
            return random.rsa_private_key(bits)
        return _rsa_key(*_primes_from_seed(random.random_bytes(32), bits))
    return _rsa_from_seed(random.random_bytes(32), bits)


def generate_ec_key(random: RandomSource, curve: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    """An EC key on ``curve`` whose scalar is drawn from ``random`` (rejection sampling)."""
    try:
        order = _ORDERS[curve]
    except KeyError:
        raise ConfigError(f"curve {curve!r} is not supported") from None
    nbytes = (order.bit_length() + 7) // 8
    while True:
        k = int.from_bytes(random.random_bytes(nbytes), "big")
        if 1 <= k < order:
            return ec.derive_private_key(k, _CURVES[curve])


def generate_key(
    random: RandomSource, key_type: KeyType = "rsa"
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A 2048-bit RSA key or a P-256 key, deterministic from ``random``."""
    if key_type == "rsa":
        return generate_rsa_key(random)
    if key_type == "ecdsa":
        return generate_ec_key(random)
    raise ConfigError(f"key type {key_type!r} is not one of rsa, ecdsa")
