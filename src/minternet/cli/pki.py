"""``minternet pki``: mint the simulated world's PKI to files, and check a chain step by step.

``create`` writes a root CA, an intermediate and a server chain + key that OpenSSL, curl and
nginx accept (``--negatives`` adds the chains a client must refuse); ``verify`` runs the TLS
client's certificate checks of :mod:`minternet.tls.verify` on a PEM chain and prints each one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from ..drivers.pem import load_trust_store
from ..errors import ConfigError
from ..randomness import SeededRandom
from ..tls.keygen import KeyType
from ..tls.pki import Credentials, Pki
from ..tls.verify import describe_name, verify_server_chain
from .exits import OutcomeFailed
from .options import cafile_option, json_option, seed_option


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--now/--at: {text!r} is not an ISO date (e.g. 2026-06-01)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _describe(c: x509.Certificate) -> dict[str, str]:
    return {
        "subject": c.subject.rfc4514_string(),
        "issuer": c.issuer.rfc4514_string(),
        "serial": f"{c.serial_number:x}",
        "not_before": c.not_valid_before_utc.isoformat(),
        "not_after": c.not_valid_after_utc.isoformat(),
        "sha256": c.fingerprint(hashes.SHA256()).hex(),
    }


@click.group()
def pki() -> None:
    """A deterministic PKI: mint certificates, verify chains."""


@pki.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@seed_option
@click.option(
    "--host",
    "hosts",
    multiple=True,
    default=("www.example.com", "localhost", "127.0.0.1"),
    show_default=True,
    help="A DNS name or IP address for the server certificate (repeat for more).",
)
@click.option(
    "--key-type",
    type=click.Choice(get_args(KeyType)),
    default="rsa",
    show_default=True,
    help="The server's key.",
)
@click.option("--ca-key-type", type=click.Choice(get_args(KeyType)), default="rsa")
@click.option("--now", "now_text", default=None, help="Mint as of this ISO date (default: now).")
@click.option("--negatives", is_flag=True, help="Also write the chains a client must refuse.")
@json_option
def create(
    directory: Path,
    seed: int,
    hosts: tuple[str, ...],
    key_type: KeyType,
    ca_key_type: KeyType,
    now_text: str | None,
    negatives: bool,
    as_json: bool,
) -> None:
    """Write ca.pem, intermediate.pem, server.pem (chain) and server.key into DIRECTORY.

    Same --seed and --now, same bytes. Try: openssl verify -CAfile ca.pem
    -untrusted intermediate.pem server.pem, or openssl s_server -cert server.pem
    -key server.key with curl --cacert ca.pem.
    """
    now = _when(now_text)
    the_pki = Pki.create(SeededRandom(seed), now, key_type=ca_key_type)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}

    def write(name: str, data: bytes, *, private: bool = False) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if private:
            path.chmod(0o600)
        written[name] = str(path)

    server = the_pki.issue_server(list(hosts), key_type=key_type)
    write("ca.pem", the_pki.root.cert_pem())
    write("intermediate.pem", Credentials(the_pki.intermediate.chain[:1], server.key).cert_pem())
    write("server.pem", server.cert_pem())
    write("server.key", server.key_pem(), private=True)
    cases = (
        the_pki.negative_matrix(hosts[0], names=list(hosts), key_type=key_type) if negatives else []
    )
    for case in cases:
        write(f"bad/{case.name}/server.pem", case.credentials.cert_pem())
        write(f"bad/{case.name}/server.key", case.credentials.key_pem(), private=True)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "seed": seed,
                    "now": now.isoformat(),
                    "files": written,
                    "root": _describe(the_pki.root.certificate),
                    "intermediate": _describe(the_pki.intermediate.certificate),
                    "server": _describe(server.certificate),
                    "negatives": [
                        {"case": c.name, "alert": c.alert, "check": c.check} for c in cases
                    ],
                },
                indent=2,
            )
        )
        return
    click.echo(f"minted as of {now.isoformat()} from seed {seed} ({ca_key_type} CAs):")
    for label, cert in (
        ("root CA", the_pki.root.certificate),
        ("intermediate", the_pki.intermediate.certificate),
        ("server", server.certificate),
    ):
        click.echo(
            f"  {label:<13} {describe_name(cert.subject):<36} serial {cert.serial_number:x}"
            f"  valid to {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    click.echo(f"  names         {', '.join(hosts)}  ({key_type} key)")
    for path in written.values():
        click.echo(f"wrote {path}")


@pki.command(name="verify")
@click.argument("chain_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cafile_option
@click.option("--host", default=None, help="The host name the client asked for.")
@click.option("--at", "at_text", default=None, help="Check validity at this ISO date.")
@json_option
def verify_command(
    chain_file: Path,
    cafile: tuple[Path, ...],
    host: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Check CHAIN_FILE (PEM, leaf first) as a TLS client would, step by step, trusting
    the --cafile certificates (at least one).

    Exit status 1 if the chain is refused, printing the TLS alert it would send.
    """
    if not cafile:
        raise click.UsageError("give the trusted roots with --cafile FILE")
    trust = load_trust_store(*cafile)
    try:
        certs = x509.load_pem_x509_certificates(chain_file.read_bytes())
    except ValueError:
        raise ConfigError(f"{chain_file}: no readable PEM certificate") from None
    result = verify_server_chain(
        [c.public_bytes(Encoding.DER) for c in certs], host, _when(at_text), trust
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "verified": result.ok,
                    "alert": result.alert,
                    "reason": result.reason,
                    "checks": [
                        {"name": c.name, "ok": c.ok, "detail": c.detail} for c in result.checks
                    ],
                    **({} if result.ok else {"failure": f"refused: {result.reason}"}),
                },
                indent=2,
            )
        )
    else:
        for c in result.checks:
            click.echo(f"  [{'ok' if c.ok else 'FAIL':>4}] {c.name:<18} {c.detail}")
        if result.ok:
            click.echo("verified: the chain is trusted for this host")
        else:
            click.echo(f"refused (alert {result.alert}): {result.reason}")
    if not result.ok:
        raise OutcomeFailed(f"{chain_file}: refused (alert {result.alert}): {result.reason}")
