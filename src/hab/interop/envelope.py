"""Legemiddelregisteret's signed and encrypted envelope (``SignertKryptertBundle``).

A report to Legemiddelregisteret is a FHIR Bundle that travels sealed: gzip-compressed,
encrypted with AES-256-GCM under a fresh key, that key encrypted for the registry with
RSA-OAEP (SHA-256) from the registry's enterprise certificate, and the ciphertext signed
with the sender's enterprise certificate (RSA PKCS#1 v1.5 over SHA-256). The envelope is a
JSON object whose fields come in the exact order of the implementation guide
(``FIELDS``); binary values are standard base64, timestamps Norwegian local time with
their offset.

Certificates are named by their thumbprint as Windows and .NET show it
(``X509Certificate2.Thumbprint``): the SHA-1 of the DER certificate as upper-case hex
without separators. The guide's example code finds both certificates by that thumbprint,
so the registry matches it the same way.

Only ``configured_credentials`` reads Django's settings; the rest is plain ``cryptography``
so that a test or an operator's script can seal and open envelopes without HAB.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os
import re
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

MESSAGE_FORMAT_VERSION = "1.0"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96-bit GCM nonce
TAG_BYTES = 16  # 128-bit GCM authentication tag
OSLO = ZoneInfo("Europe/Oslo")

# The order is part of the format ("in exactly the order shown").
FIELDS = (
    "messageId",
    "senderOrganizationIdentifier",
    "messageFormatVersion",
    "rapporteringFra",
    "rapporteringTil",
    "encryptedContent",
    "encryptionCertificateThumbprint",
    "encryptedKey",
    "nonce",
    "authenticationTag",
    "signatureCertificateThumbprint",
    "signature",
    "generatedAt",
)

SETTING_SENDER_CERT = "HAB_LMDI_SENDER_CERT"
SETTING_SENDER_KEY = "HAB_LMDI_SENDER_KEY"
SETTING_SENDER_KEY_PASSWORD = "HAB_LMDI_SENDER_KEY_PASSWORD"
SETTING_RECIPIENT_CERT = "HAB_LMDI_RECIPIENT_CERT"

_OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)
_NTR_IDENTIFIER = re.compile(r"^NTRNO-?(\d{9})$")


class EnvelopeError(Exception):
    """An envelope cannot be sealed or opened; the message says why, for an operator."""


# --- certificates and keys ---------------------------------------------------------------


def thumbprint(certificate: x509.Certificate) -> str:
    """SHA-1 of the DER certificate in upper-case hex, as .NET's X509Certificate2.Thumbprint."""
    return certificate.fingerprint(hashes.SHA1()).hex().upper()


def _describe(certificate: x509.Certificate) -> str:
    return f"{certificate.subject.rfc4514_string()} (thumbprint {thumbprint(certificate)})"


def organisation_numbers(certificate: x509.Certificate) -> set[str]:
    """The organisation numbers a Norwegian enterprise certificate names in its subject.

    Older Buypass and Commfides certificates carry the number as serialNumber, newer ones
    as organizationIdentifier ``NTRNO-<number>``; an empty set when it names none.
    """
    numbers = set()
    for attribute in certificate.subject:
        value = str(attribute.value).strip()
        if attribute.oid == NameOID.SERIAL_NUMBER and re.fullmatch(r"\d{9}", value):
            numbers.add(value)
        elif attribute.oid == NameOID.ORGANIZATION_IDENTIFIER:
            match = _NTR_IDENTIFIER.match(value.upper())
            if match:
                numbers.add(match.group(1))
    return numbers


def check_valid_at(certificate: x509.Certificate, moment: datetime, *, role: str) -> None:
    """Refuse a certificate outside its validity period at ``moment``.

    ``role`` names it in the message ("sender certificate", "Legemiddelregisteret's
    certificate").
    """
    _require_aware(moment, "the time a certificate is checked at")
    if moment < certificate.not_valid_before_utc:
        raise EnvelopeError(
            f"The {role} {_describe(certificate)} is not valid until "
            f"{certificate.not_valid_before_utc.astimezone(OSLO).isoformat()}."
        )
    if moment > certificate.not_valid_after_utc:
        raise EnvelopeError(
            f"The {role} {_describe(certificate)} expired on "
            f"{certificate.not_valid_after_utc.astimezone(OSLO).isoformat()}: "
            "renew it and configure the new one."
        )


def _recipient_public_key(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise EnvelopeError(
            f"Legemiddelregisteret's certificate {_describe(certificate)} does not hold an RSA "
            "key; the envelope's key can only be encrypted with RSA-OAEP. Use the certificate "
            "from the guide's download page."
        )
    return key


@dataclass(frozen=True)
class SenderCredentials:
    """The reporting organisation's enterprise certificate and its private key."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, rsa.RSAPrivateKey):
            raise EnvelopeError(
                "The sender's private key is not an RSA key; Legemiddelregisteret needs "
                "RSA PKCS#1 v1.5 signatures."
            )
        if self.certificate.public_key().public_numbers() != (
            self.private_key.public_key().public_numbers()
        ):
            raise EnvelopeError(
                f"The sender's private key does not belong to the sender certificate "
                f"{_describe(self.certificate)}: configure the key of that certificate."
            )
        try:
            usage = self.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return
        if not (usage.digital_signature or usage.content_commitment):
            raise EnvelopeError(
                f"The sender certificate {_describe(self.certificate)} may not sign (its key "
                "usage allows neither digital signature nor non-repudiation): use the "
                "certificate of the enterprise set that signs."
            )

    @property
    def thumbprint(self) -> str:
        return thumbprint(self.certificate)


@dataclass(frozen=True)
class LmdiCredentials:
    """What sealing needs: the sender's credentials and Legemiddelregisteret's certificate."""

    sender: SenderCredentials
    recipient_certificate: x509.Certificate

    def __post_init__(self) -> None:
        _recipient_public_key(self.recipient_certificate)


def load_certificate(path: str | os.PathLike) -> x509.Certificate:
    """An X.509 certificate from a PEM file (a DER .cer file is read as well)."""
    data = _read(path, "certificate")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise EnvelopeError(f"{path} does not hold an X.509 certificate in PEM format.") from None


def load_private_key(
    path: str | os.PathLike, password: str | bytes | None = None
) -> rsa.RSAPrivateKey:
    """The RSA private key in a PEM file, decrypted with ``password`` when it is protected."""
    data = _read(path, "private key")
    secret = password.encode("utf-8") if isinstance(password, str) else password
    try:
        key = serialization.load_pem_private_key(data, password=secret or None)
    except TypeError as error:
        if secret:
            raise EnvelopeError(
                f"The private key in {path} is not password protected, but a password was given."
            ) from None
        raise EnvelopeError(
            f"The private key in {path} is password protected: give its password."
        ) from error
    except ValueError:
        raise EnvelopeError(
            f"Could not read the private key in {path}: wrong password, or not a PEM private key."
        ) from None
    except UnsupportedAlgorithm:
        raise EnvelopeError(f"The private key in {path} uses an unsupported algorithm.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise EnvelopeError(
            f"The private key in {path} is not an RSA key; Legemiddelregisteret needs RSA."
        )
    return key


def load_sender(
    certificate_path: str | os.PathLike,
    key_path: str | os.PathLike,
    password: str | bytes | None = None,
) -> SenderCredentials:
    return SenderCredentials(
        load_certificate(certificate_path), load_private_key(key_path, password)
    )


def _read(path: str | os.PathLike, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise EnvelopeError(f"Cannot read the {what} file {path}: {error.strerror}.") from None


def configured_credentials() -> LmdiCredentials:
    """The sender's and Legemiddelregisteret's certificates from HAB's settings.

    Raises EnvelopeError naming the settings still missing, or the one whose file is wrong.
    """
    from django.conf import settings

    values = {
        name: getattr(settings, name, "") or ""
        for name in (
            SETTING_SENDER_CERT,
            SETTING_SENDER_KEY,
            SETTING_SENDER_KEY_PASSWORD,
            SETTING_RECIPIENT_CERT,
        )
    }
    missing = [
        name
        for name in (SETTING_SENDER_CERT, SETTING_SENDER_KEY, SETTING_RECIPIENT_CERT)
        if not values[name]
    ]
    if missing:
        raise EnvelopeError(
            "Signing and encryption for Legemiddelregisteret is not configured: set "
            + ", ".join(missing)
            + " (see docs/operations.md)."
        )

    def loaded(setting: str, load, *args):
        try:
            return load(values[setting], *args)
        except EnvelopeError as error:
            raise EnvelopeError(f"{setting}: {error}") from None

    certificate = loaded(SETTING_SENDER_CERT, load_certificate)
    key = loaded(SETTING_SENDER_KEY, load_private_key, values[SETTING_SENDER_KEY_PASSWORD])
    recipient = loaded(SETTING_RECIPIENT_CERT, load_certificate)
    try:
        sender = SenderCredentials(certificate, key)
    except EnvelopeError as error:
        raise EnvelopeError(f"{SETTING_SENDER_CERT}, {SETTING_SENDER_KEY}: {error}") from None
    try:
        return LmdiCredentials(sender, recipient)
    except EnvelopeError as error:
        raise EnvelopeError(f"{SETTING_RECIPIENT_CERT}: {error}") from None


# --- sealing -----------------------------------------------------------------------------


def _require_aware(moment: datetime, what: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise EnvelopeError(f"{what} must be a datetime with a time zone; got {moment!r}.")


def local_timestamp(moment: datetime) -> str:
    """ISO 8601 in Norwegian local time with its offset, e.g. 2026-01-22T10:30:00+01:00."""
    _require_aware(moment, "A timestamp")
    return moment.astimezone(OSLO).isoformat()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal(
    bundle_json: bytes,
    *,
    sender: SenderCredentials,
    recipient_certificate: x509.Certificate,
    organisation_number: str,
    period_from: datetime,
    period_to: datetime,
    generated_at: datetime,
) -> dict[str, str]:
    """The SignertKryptertBundle for ``bundle_json``, its fields in the guide's order.

    Both certificates must be valid at ``generated_at``. ``json.dumps`` of the result keeps
    the order.
    """
    if not isinstance(bundle_json, bytes | bytearray):
        raise TypeError("seal() takes the Bundle's JSON as bytes (UTF-8).")
    organisation_number = (organisation_number or "").strip()
    if not organisation_number:
        raise EnvelopeError("The sender's organisation number is missing.")
    for moment, what in [
        (period_from, "rapporteringFra"),
        (period_to, "rapporteringTil"),
        (generated_at, "generatedAt"),
    ]:
        _require_aware(moment, what)
    if period_from > period_to:
        raise EnvelopeError(
            f"The reporting period starts ({local_timestamp(period_from)}) after it ends "
            f"({local_timestamp(period_to)})."
        )
    check_valid_at(sender.certificate, generated_at, role="sender certificate")
    check_valid_at(recipient_certificate, generated_at, role="Legemiddelregisteret certificate")
    recipient_key = _recipient_public_key(recipient_certificate)
    named = organisation_numbers(sender.certificate)
    if named and organisation_number not in named:
        raise EnvelopeError(
            f"The sender certificate {_describe(sender.certificate)} belongs to organisation "
            f"number {', '.join(sorted(named))}, not {organisation_number}: "
            "Legemiddelregisteret would refuse the report."
        )

    compressed = gzip.compress(bytes(bundle_json), mtime=0)
    key = os.urandom(KEY_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, compressed, None)
    encrypted_content, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    encrypted_key = recipient_key.encrypt(key, _OAEP)
    signature = sender.private_key.sign(encrypted_content, padding.PKCS1v15(), hashes.SHA256())

    envelope = {
        "messageId": str(uuid.uuid4()),
        "senderOrganizationIdentifier": organisation_number,
        "messageFormatVersion": MESSAGE_FORMAT_VERSION,
        "rapporteringFra": local_timestamp(period_from),
        "rapporteringTil": local_timestamp(period_to),
        "encryptedContent": _b64(encrypted_content),
        "encryptionCertificateThumbprint": thumbprint(recipient_certificate),
        "encryptedKey": _b64(encrypted_key),
        "nonce": _b64(nonce),
        "authenticationTag": _b64(tag),
        "signatureCertificateThumbprint": thumbprint(sender.certificate),
        "signature": _b64(signature),
        "generatedAt": local_timestamp(generated_at),
    }
    return envelope


def seal_configured(
    bundle_json: bytes,
    *,
    credentials: LmdiCredentials,
    organisation_number: str,
    period_from: datetime,
    period_to: datetime,
    generated_at: datetime,
) -> dict[str, str]:
    """``seal`` with the certificates of ``configured_credentials()`` (or any LmdiCredentials)."""
    return seal(
        bundle_json,
        sender=credentials.sender,
        recipient_certificate=credentials.recipient_certificate,
        organisation_number=organisation_number,
        period_from=period_from,
        period_to=period_to,
        generated_at=generated_at,
    )


# --- checking and opening ----------------------------------------------------------------


def _decoded(envelope: dict, field: str) -> bytes:
    value = envelope[field]
    try:
        if not isinstance(value, str):
            raise TypeError
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise EnvelopeError(f"The field {field} is not valid base64.") from None


def _timestamp(envelope: dict, field: str) -> datetime:
    value = envelope[field]
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise EnvelopeError(f"The field {field} is not an ISO 8601 timestamp: {value!r}.") from None
    if moment.utcoffset() is None:
        raise EnvelopeError(f"The field {field} has no UTC offset: {value!r}.")
    return moment


def verify_sealed(
    envelope: dict,
    *,
    sender_certificate: x509.Certificate,
    recipient_certificate: x509.Certificate | None = None,
) -> None:
    """Check an envelope without decrypting it: fields, sizes, thumbprints and signature.

    This is what a sender can check of its own file (only the registry can decrypt it).
    """
    if not isinstance(envelope, dict):
        raise EnvelopeError("The envelope must be a JSON object.")
    missing = [field for field in FIELDS if field not in envelope]
    extra = [field for field in envelope if field not in FIELDS]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unknown " + ", ".join(extra))
        raise EnvelopeError("The envelope's fields are wrong: " + "; ".join(parts) + ".")
    if tuple(envelope) != FIELDS:
        raise EnvelopeError(
            "The envelope's fields are out of order; the guide requires " + ", ".join(FIELDS) + "."
        )
    if envelope["messageFormatVersion"] != MESSAGE_FORMAT_VERSION:
        raise EnvelopeError(
            f"Unknown messageFormatVersion {envelope['messageFormatVersion']!r}; "
            f"this HAB writes and reads {MESSAGE_FORMAT_VERSION}."
        )
    for field in ("rapporteringFra", "rapporteringTil"):
        _timestamp(envelope, field)
    generated_at = _timestamp(envelope, "generatedAt")

    nonce = _decoded(envelope, "nonce")
    if len(nonce) != NONCE_BYTES:
        raise EnvelopeError(f"The nonce is {len(nonce)} bytes, not {NONCE_BYTES}.")
    tag = _decoded(envelope, "authenticationTag")
    if len(tag) != TAG_BYTES:
        raise EnvelopeError(f"The authenticationTag is {len(tag)} bytes, not {TAG_BYTES}.")
    encrypted_key = _decoded(envelope, "encryptedKey")
    encrypted_content = _decoded(envelope, "encryptedContent")
    signature = _decoded(envelope, "signature")

    if recipient_certificate is not None:
        expected = thumbprint(recipient_certificate)
        if envelope["encryptionCertificateThumbprint"] != expected:
            raise EnvelopeError(
                "Wrong certificate thumbprint: the envelope was encrypted for the certificate "
                f"with thumbprint {envelope['encryptionCertificateThumbprint']}, not "
                f"Legemiddelregisteret's certificate {_describe(recipient_certificate)}."
            )
        size = _recipient_public_key(recipient_certificate).key_size // 8
        if len(encrypted_key) != size:
            raise EnvelopeError(
                f"The encryptedKey is {len(encrypted_key)} bytes, not the {size} of "
                "Legemiddelregisteret's RSA key."
            )

    expected = thumbprint(sender_certificate)
    if envelope["signatureCertificateThumbprint"] != expected:
        raise EnvelopeError(
            "Wrong certificate thumbprint: the envelope names the signing certificate "
            f"{envelope['signatureCertificateThumbprint']}, not the sender certificate "
            f"{_describe(sender_certificate)}."
        )
    public_key = sender_certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise EnvelopeError(f"The sender certificate {_describe(sender_certificate)} is not RSA.")
    try:
        public_key.verify(signature, encrypted_content, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise EnvelopeError(
            "Bad signature: the encrypted content or the signature was changed after signing, "
            f"or it was not signed by {_describe(sender_certificate)}."
        ) from None
    check_valid_at(sender_certificate, generated_at, role="sender certificate")


def open_sealed(
    envelope: dict,
    *,
    recipient_key: rsa.RSAPrivateKey,
    sender_certificate: x509.Certificate,
    recipient_certificate: x509.Certificate | None = None,
) -> bytes:
    """The Bundle JSON inside an envelope, after checking it as ``verify_sealed`` does.

    Needs the recipient's private key: for tests, and for a test key pair standing in for
    the registry's.
    """
    verify_sealed(
        envelope,
        sender_certificate=sender_certificate,
        recipient_certificate=recipient_certificate,
    )
    encrypted_key = _decoded(envelope, "encryptedKey")
    if len(encrypted_key) != recipient_key.key_size // 8:
        raise EnvelopeError(
            f"The encryptedKey is {len(encrypted_key)} bytes: it was not encrypted for this "
            f"{recipient_key.key_size}-bit private key (the envelope names certificate "
            f"{envelope['encryptionCertificateThumbprint']})."
        )
    try:
        key = recipient_key.decrypt(encrypted_key, _OAEP)
    except ValueError:
        raise EnvelopeError(
            "The content key cannot be decrypted with this private key: the envelope was "
            "encrypted for another certificate (thumbprint "
            f"{envelope['encryptionCertificateThumbprint']}) or encryptedKey was changed."
        ) from None
    if len(key) != KEY_BYTES:
        raise EnvelopeError(f"The content key is {len(key)} bytes, not {KEY_BYTES} (AES-256).")
    sealed = _decoded(envelope, "encryptedContent") + _decoded(envelope, "authenticationTag")
    try:
        compressed = AESGCM(key).decrypt(_decoded(envelope, "nonce"), sealed, None)
    except InvalidTag:
        raise EnvelopeError(
            "Tampered content: AES-GCM authentication failed, so encryptedContent, nonce or "
            "authenticationTag was changed."
        ) from None
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error):
        raise EnvelopeError("The decrypted content is not gzip-compressed.") from None
