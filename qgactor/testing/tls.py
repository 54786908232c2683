"""A throw-away TLS certificate for tests and benchmarks on loopback."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from pathlib import Path

__all__ = ["self_signed_certificate"]


def self_signed_certificate(directory: Path | str, hosts: Iterable[str] = ("localhost", "127.0.0.1"),
                            *, valid_for: datetime.timedelta = datetime.timedelta(days=1)) -> tuple[str, str]:
    """Write a self-signed certificate for ``hosts`` (DNS names and IP addresses) and its
    private key to ``directory`` as ``cert.pem`` and ``key.pem``; return their paths.

    For a test server (``ssl_context.load_cert_chain(cert, key)``) and a client that trusts it
    (``ssl_context.load_verify_locations(cert)``). Valid from a minute ago for ``valid_for``.
    Raises ``ValueError`` if ``hosts`` is empty.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    if not names:
        raise ValueError("a certificate needs at least one host name or address")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qgactor test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + valid_for)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = Path(directory)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)
