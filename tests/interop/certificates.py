"""Certificates made in the test, for sealing reports to Legemiddelregisteret: the
registry's (whose private key only a test holds) and the clinic's enterprise certificate."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)
VALID_TO = datetime(2036, 1, 1, tzinfo=UTC)


def certificate(key, name, *, valid_from=VALID_FROM, valid_to=VALID_TO, subject_extra=()):
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, name), *subject_extra],
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .sign(key, hashes.SHA256())
    )


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_pem_files(tmp_path, sender, registry, password=None):
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    paths = {
        "cert": tmp_path / "sender-cert.pem",
        "key": tmp_path / "sender-key.pem",
        "recipient": tmp_path / "lmr.pem",
    }
    paths["cert"].write_bytes(sender.certificate.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        sender.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    paths["recipient"].write_bytes(registry[1].public_bytes(serialization.Encoding.PEM))
    return paths
