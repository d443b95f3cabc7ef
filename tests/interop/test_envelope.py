"""The SignertKryptertBundle: sealed as Legemiddelregisteret's guide says, checked by hand.

Each check of the format decrypts or verifies on its own, with ``cryptography``'s
primitives and the registry's test key, not through ``open_sealed``: a mistake shared by
sealing and opening would otherwise go unnoticed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from hab.core.checks import check_lmdi_certificates
from hab.interop import envelope as env
from hab.interop.envelope import EnvelopeError, LmdiCredentials, SenderCredentials
from tests.interop.certificates import certificate, rsa_key, write_pem_files

OSLO = ZoneInfo("Europe/Oslo")
GENERATED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=OSLO)
PERIOD_FROM = datetime(2026, 2, 1, tzinfo=OSLO)
PERIOD_TO = datetime(2026, 3, 1, tzinfo=OSLO) - timedelta(seconds=1)
BUNDLE = json.dumps(
    {"resourceType": "Bundle", "type": "transaction", "entry": [{"note": "Blåbær ø"}]},
    ensure_ascii=False,
).encode("utf-8")
ORG = "974589095"
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@pytest.fixture(scope="module")
def registry():
    key = rsa_key()
    return key, certificate(key, "Legemiddelregisteret TEST")


@pytest.fixture(scope="module")
def sender():
    key = rsa_key()
    return SenderCredentials(certificate(key, "HAB Oslo"), key)


def sealed(sender, registry, bundle=BUNDLE, **overrides):
    arguments = {
        "sender": sender,
        "recipient_certificate": registry[1],
        "organisation_number": ORG,
        "period_from": PERIOD_FROM,
        "period_to": PERIOD_TO,
        "generated_at": GENERATED_AT,
    } | overrides
    return env.seal(bundle, **arguments)


def b64(envelope, field):
    return base64.b64decode(envelope[field], validate=True)


def opened(envelope, sender, registry):
    return env.open_sealed(
        envelope,
        recipient_key=registry[0],
        sender_certificate=sender.certificate,
        recipient_certificate=registry[1],
    )


def test_the_fields_come_in_the_guides_order(sender, registry):
    envelope = sealed(sender, registry)

    assert list(envelope) == [
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
    ]
    # And so they stay in the JSON written to the file.
    assert list(json.loads(json.dumps(envelope))) == list(envelope)
    assert envelope["messageFormatVersion"] == "1.0"
    assert envelope["senderOrganizationIdentifier"] == ORG
    assert all(isinstance(value, str) for value in envelope.values())


def test_each_envelope_has_its_own_id_key_and_nonce(sender, registry):
    first, second = sealed(sender, registry), sealed(sender, registry)

    assert first["messageId"] != second["messageId"]
    assert str(uuid.UUID(first["messageId"], version=4)) == first["messageId"]
    assert first["nonce"] != second["nonce"]
    assert first["encryptedKey"] != second["encryptedKey"]
    assert first["encryptedContent"] != second["encryptedContent"]


def test_binary_fields_are_standard_base64_of_the_right_sizes(sender, registry):
    envelope = sealed(sender, registry)

    assert len(b64(envelope, "nonce")) == 12
    assert len(b64(envelope, "authenticationTag")) == 16
    assert len(b64(envelope, "encryptedKey")) == registry[1].public_key().key_size // 8 == 256
    assert len(b64(envelope, "signature")) == sender.certificate.public_key().key_size // 8
    for field in ("encryptedContent", "encryptedKey", "nonce", "authenticationTag", "signature"):
        assert "-" not in envelope[field] and "_" not in envelope[field]


def test_timestamps_are_norwegian_local_time_with_the_offset(sender, registry):
    envelope = sealed(
        sender,
        registry,
        period_from=datetime(2026, 1, 22, 9, 30, tzinfo=UTC),
        period_to=datetime(2026, 6, 30, 21, 59, 59, tzinfo=UTC),
        generated_at=datetime(2026, 7, 1, 6, 0, tzinfo=UTC),
    )

    assert envelope["rapporteringFra"] == "2026-01-22T10:30:00+01:00"
    assert envelope["rapporteringTil"] == "2026-06-30T23:59:59+02:00"
    assert envelope["generatedAt"] == "2026-07-01T08:00:00+02:00"


def test_naive_times_and_a_period_backwards_are_refused(sender, registry):
    with pytest.raises(EnvelopeError, match="time zone"):
        sealed(sender, registry, period_from=datetime(2026, 2, 1))
    with pytest.raises(EnvelopeError, match=r"starts .* after it ends"):
        sealed(sender, registry, period_from=PERIOD_TO, period_to=PERIOD_FROM)


def test_the_round_trip_gives_back_the_bundles_bytes(sender, registry):
    assert opened(sealed(sender, registry), sender, registry) == BUNDLE


def test_the_content_is_gzip_under_aes_gcm_with_the_key_rsa_oaep_encrypted(sender, registry):
    """Decrypted by hand: RSA-OAEP SHA-256 for the key, AES-256-GCM with the tag apart."""
    envelope = sealed(sender, registry)

    key = registry[0].decrypt(b64(envelope, "encryptedKey"), OAEP)
    assert len(key) == 32
    compressed = AESGCM(key).decrypt(
        b64(envelope, "nonce"),
        b64(envelope, "encryptedContent") + b64(envelope, "authenticationTag"),
        None,
    )
    assert compressed[:2] == b"\x1f\x8b"  # gzip's magic number
    assert gzip.decompress(compressed) == BUNDLE


def test_the_signature_is_pkcs1_v15_over_the_sha256_of_the_encrypted_content(sender, registry):
    envelope = sealed(sender, registry)
    content = b64(envelope, "encryptedContent")
    public_key = sender.certificate.public_key()

    # As the guide's C# does it: hash first, then sign the hash (RSA SignHash).
    public_key.verify(
        b64(envelope, "signature"),
        hashlib.sha256(content).digest(),
        padding.PKCS1v15(),
        Prehashed(hashes.SHA256()),
    )
    public_key.verify(b64(envelope, "signature"), content, padding.PKCS1v15(), hashes.SHA256())


def test_thumbprints_are_the_upper_case_sha1_of_the_der_certificates(sender, registry):
    envelope = sealed(sender, registry)

    def sha1(cert):
        return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()

    assert envelope["encryptionCertificateThumbprint"] == sha1(registry[1])
    assert envelope["signatureCertificateThumbprint"] == sha1(sender.certificate)
    assert len(envelope["signatureCertificateThumbprint"]) == 40


def flipped(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("encryptedContent", "Bad signature"),
        ("signature", "Bad signature"),
        ("nonce", "Tampered content"),
        ("authenticationTag", "Tampered content"),
        ("encryptedKey", "cannot be decrypted"),
    ],
)
def test_a_changed_field_is_refused(sender, registry, field, message):
    envelope = sealed(sender, registry)
    envelope[field] = flipped(envelope[field])

    with pytest.raises(EnvelopeError, match=message):
        opened(envelope, sender, registry)


def test_content_changed_and_re_signed_by_someone_else_is_refused(sender, registry):
    envelope = sealed(sender, registry)
    other = rsa_key()
    envelope["signature"] = base64.b64encode(
        other.sign(b64(envelope, "encryptedContent"), padding.PKCS1v15(), hashes.SHA256())
    ).decode()

    with pytest.raises(EnvelopeError, match="Bad signature"):
        opened(envelope, sender, registry)


def test_another_private_key_cannot_open_it(sender, registry):
    envelope = sealed(sender, registry)

    with pytest.raises(EnvelopeError, match="another certificate"):
        env.open_sealed(envelope, recipient_key=rsa_key(), sender_certificate=sender.certificate)


def test_wrong_certificate_thumbprints_are_named(sender, registry):
    envelope = sealed(sender, registry)
    other_key = rsa_key()
    other = certificate(other_key, "Somebody else")

    with pytest.raises(EnvelopeError, match=r"Wrong certificate thumbprint.*signing certificate"):
        env.open_sealed(envelope, recipient_key=registry[0], sender_certificate=other)
    with pytest.raises(EnvelopeError, match=r"Wrong certificate thumbprint.*encrypted for"):
        env.open_sealed(
            envelope,
            recipient_key=other_key,
            sender_certificate=sender.certificate,
            recipient_certificate=other,
        )


def test_verify_sealed_checks_a_file_without_the_registrys_key(sender, registry):
    envelope = json.loads(json.dumps(sealed(sender, registry)))

    env.verify_sealed(
        envelope, sender_certificate=sender.certificate, recipient_certificate=registry[1]
    )

    shuffled = {"nonce": envelope["nonce"]} | {k: v for k, v in envelope.items() if k != "nonce"}
    with pytest.raises(EnvelopeError, match="out of order"):
        env.verify_sealed(shuffled, sender_certificate=sender.certificate)
    missing = {k: v for k, v in envelope.items() if k != "signature"}
    with pytest.raises(EnvelopeError, match="missing signature"):
        env.verify_sealed(missing, sender_certificate=sender.certificate)
    with pytest.raises(EnvelopeError, match="not valid base64"):
        env.verify_sealed(
            envelope | {"nonce": "not base64!"}, sender_certificate=sender.certificate
        )
    with pytest.raises(EnvelopeError, match="nonce is 16 bytes"):
        env.verify_sealed(
            envelope | {"nonce": base64.b64encode(bytes(16)).decode()},
            sender_certificate=sender.certificate,
        )


def test_an_expired_sender_certificate_is_refused(registry):
    key = rsa_key()
    expired = SenderCredentials(
        certificate(key, "HAB Oslo", valid_to=datetime(2026, 1, 31, tzinfo=UTC)), key
    )

    with pytest.raises(EnvelopeError, match=r"sender certificate .* expired on 2026-01-31"):
        sealed(expired, registry)


def test_a_sender_certificate_not_yet_valid_is_refused(registry):
    key = rsa_key()
    early = SenderCredentials(
        certificate(key, "HAB Oslo", valid_from=datetime(2026, 6, 1, tzinfo=UTC)), key
    )

    with pytest.raises(EnvelopeError, match="not valid until"):
        sealed(early, registry)


def test_the_recipient_certificate_must_hold_an_rsa_key(sender):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_certificate = certificate(ec_key, "Not RSA")

    with pytest.raises(EnvelopeError, match="does not hold an RSA key"):
        sealed(sender, (None, ec_certificate))
    with pytest.raises(EnvelopeError, match="does not hold an RSA key"):
        LmdiCredentials(sender, ec_certificate)


def test_the_private_key_must_belong_to_the_sender_certificate(sender):
    with pytest.raises(EnvelopeError, match="does not belong"):
        SenderCredentials(sender.certificate, rsa_key())


def test_the_organisation_number_must_match_an_enterprise_certificate(registry):
    key = rsa_key()
    enterprise = SenderCredentials(
        certificate(
            key,
            "HAB OSLO",
            subject_extra=[x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRNO-" + ORG)],
        ),
        key,
    )

    assert env.organisation_numbers(enterprise.certificate) == {ORG}
    assert sealed(enterprise, registry)["senderOrganizationIdentifier"] == ORG
    with pytest.raises(EnvelopeError, match=f"belongs to organisation number {ORG}, not"):
        sealed(enterprise, registry, organisation_number="123456785")


# --- PEM files and settings ---------------------------------------------------------------


def test_pem_files_load_with_and_without_a_password(tmp_path, sender, registry):
    plain = write_pem_files(tmp_path, sender, registry)
    loaded = env.load_sender(plain["cert"], plain["key"])
    assert loaded.thumbprint == sender.thumbprint
    assert env.load_certificate(plain["recipient"]) == registry[1]

    protected = write_pem_files(tmp_path, sender, registry, password="hemmelig-æøå")
    loaded = env.load_sender(protected["cert"], protected["key"], "hemmelig-æøå")
    assert opened(sealed(loaded, registry), sender, registry) == BUNDLE

    with pytest.raises(EnvelopeError, match="password protected: give its password"):
        env.load_private_key(protected["key"])
    with pytest.raises(EnvelopeError, match="wrong password"):
        env.load_private_key(protected["key"], "feil")
    with pytest.raises(EnvelopeError, match=r"does not hold an X\.509 certificate"):
        env.load_certificate(protected["key"])
    with pytest.raises(EnvelopeError, match="Cannot read the certificate file"):
        env.load_certificate(tmp_path / "missing.pem")


def test_a_der_cer_file_loads_too(tmp_path, registry):
    path = tmp_path / "lmr.cer"
    path.write_bytes(registry[1].public_bytes(serialization.Encoding.DER))

    assert env.load_certificate(path) == registry[1]


def test_configured_credentials_names_the_missing_settings(settings, tmp_path, sender, registry):
    settings.HAB_LMDI_SENDER_CERT = ""
    settings.HAB_LMDI_SENDER_KEY = ""
    settings.HAB_LMDI_SENDER_KEY_PASSWORD = ""
    settings.HAB_LMDI_RECIPIENT_CERT = ""
    with pytest.raises(EnvelopeError, match="not configured") as error:
        env.configured_credentials()
    for name in ("HAB_LMDI_SENDER_CERT", "HAB_LMDI_SENDER_KEY", "HAB_LMDI_RECIPIENT_CERT"):
        assert name in str(error.value)

    paths = write_pem_files(tmp_path, sender, registry, password="hemmelig")
    settings.HAB_LMDI_SENDER_CERT = str(paths["cert"])
    settings.HAB_LMDI_SENDER_KEY = str(paths["key"])
    with pytest.raises(EnvelopeError, match=r"not configured: set HAB_LMDI_RECIPIENT_CERT \("):
        env.configured_credentials()

    settings.HAB_LMDI_RECIPIENT_CERT = str(paths["recipient"])
    with pytest.raises(EnvelopeError, match=r"^HAB_LMDI_SENDER_KEY: .*password protected"):
        env.configured_credentials()

    settings.HAB_LMDI_SENDER_KEY_PASSWORD = "hemmelig"
    credentials = env.configured_credentials()
    assert credentials.sender.thumbprint == sender.thumbprint
    assert credentials.recipient_certificate == registry[1]
    envelope = env.seal_configured(
        BUNDLE,
        credentials=credentials,
        organisation_number=ORG,
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        generated_at=GENERATED_AT,
    )
    assert opened(envelope, sender, registry) == BUNDLE


def test_check_deploy_warns_when_only_some_are_set(settings):
    settings.HAB_LMDI_SENDER_CERT = ""
    settings.HAB_LMDI_SENDER_KEY = ""
    settings.HAB_LMDI_SENDER_KEY_PASSWORD = ""
    settings.HAB_LMDI_RECIPIENT_CERT = ""
    assert check_lmdi_certificates() == []

    settings.HAB_LMDI_SENDER_CERT = "/etc/hab/lmdi/sender-cert.pem"
    (warning,) = check_lmdi_certificates()
    assert warning.id == "hab.W006"
    assert "HAB_LMDI_SENDER_KEY, HAB_LMDI_RECIPIENT_CERT not set" in warning.msg

    settings.HAB_LMDI_SENDER_KEY = "/etc/hab/lmdi/sender-key.pem"
    settings.HAB_LMDI_RECIPIENT_CERT = "/etc/hab/lmdi/lmr.pem"
    assert check_lmdi_certificates() == []
