"""A sealed report end to end: `hab lmdi --sealed` with the configured certificates, then
`hab lmdi-open` checks it and, with the test registry's key, opens a Bundle that still
meets the LMDI profiles. Without certificates, sealing is refused before anything is
written."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command

from hab.interop.envelope import FIELDS, SenderCredentials
from tests.clock import TODAY
from tests.interop.certificates import certificate, rsa_key, write_pem_files
from tests.interop.lmdi_check import assert_valid

pytestmark = pytest.mark.django_db

START = TODAY - timedelta(days=3)


@pytest.fixture
def certificates(tmp_path, settings):
    registry_key = rsa_key()
    registry = (registry_key, certificate(registry_key, "Legemiddelregisteret TEST"))
    sender_key = rsa_key()
    sender = SenderCredentials(certificate(sender_key, "HAB Oslo"), sender_key)
    paths = write_pem_files(tmp_path, sender, registry)
    settings.HAB_LMDI_SENDER_CERT = str(paths["cert"])
    settings.HAB_LMDI_SENDER_KEY = str(paths["key"])
    settings.HAB_LMDI_RECIPIENT_CERT = str(paths["recipient"])
    key = tmp_path / "registry-key.pem"
    key.write_bytes(
        registry_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


def _lmdi(out, *extra):
    call_command(
        "lmdi",
        "--clinic",
        "oslo",
        "--from",
        str(START),
        "--to",
        str(TODAY),
        "--out",
        str(out),
        *extra,
    )


def test_a_sealed_report_opens_to_a_valid_bundle(scene, certificates, tmp_path, capsys):
    out = tmp_path / "sealed.json"

    _lmdi(out, "--sealed")
    sealed = json.loads(out.read_text())
    call_command("lmdi-open", str(out))
    call_command(
        "lmdi-open", str(out), "--key", str(certificates), "--out", str(tmp_path / "b.json")
    )

    assert list(sealed) == list(FIELDS)
    printed = capsys.readouterr().out
    assert "in order (signed by" in printed
    assert "6 MedicationAdministration" in printed
    assert_valid(json.loads((tmp_path / "b.json").read_text()))


def test_a_changed_report_is_named_as_such(scene, certificates, tmp_path):
    out = tmp_path / "sealed.json"
    _lmdi(out, "--sealed")
    sealed = json.loads(out.read_text())
    content = bytearray(base64.b64decode(sealed["encryptedContent"]))
    content[0] ^= 1
    sealed["encryptedContent"] = base64.b64encode(bytes(content)).decode()
    out.write_text(json.dumps(sealed))

    with pytest.raises(CommandError, match=r"(?i)signature"):
        call_command("lmdi-open", str(out))


def test_sealing_without_certificates_is_refused_before_writing(scene, tmp_path, settings):
    settings.HAB_LMDI_SENDER_CERT = settings.HAB_LMDI_SENDER_KEY = ""
    settings.HAB_LMDI_RECIPIENT_CERT = ""

    with pytest.raises(CommandError, match="HAB_LMDI_SENDER_CERT"):
        _lmdi(tmp_path / "x.json", "--sealed")
    assert not list(tmp_path.iterdir())
