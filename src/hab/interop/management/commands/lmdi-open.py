"""hab lmdi-open lmdi.json [--key registry-test-key.pem] [--out bundle.json]: checks a
sealed report (SignertKryptertBundle) against the configured certificates; with the
private key of a test certificate standing in for the registry's, opens it too."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hab.interop import envelope


class Command(BaseCommand):
    help = "Checks (and with a test key, opens) a sealed report to Legemiddelregisteret."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the sealed report (JSON)")
        parser.add_argument(
            "--key", default="", help="a TEST registry certificate's private key (PEM)"
        )
        parser.add_argument("--out", default="", help="where to write the opened Bundle")

    def handle(self, *args, file: str, key: str, out: str, **options):
        try:
            sealed = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{file} is not a readable JSON file: {error}") from error
        try:
            credentials = envelope.configured_credentials()
            certificates = {
                "sender_certificate": credentials.sender.certificate,
                "recipient_certificate": credentials.recipient_certificate,
            }
            if not key:
                envelope.verify_sealed(sealed, **certificates)
                self.stdout.write(
                    f"{file}: in order (signed by {credentials.sender.thumbprint}, "
                    f"message {sealed['messageId']}, {sealed['rapporteringFra']} to "
                    f"{sealed['rapporteringTil']})."
                )
                return
            bundle = envelope.open_sealed(
                sealed, recipient_key=envelope.load_private_key(key), **certificates
            )
        except envelope.EnvelopeError as error:
            raise CommandError(str(error)) from error
        resources = Counter(
            entry["resource"]["resourceType"] for entry in json.loads(bundle)["entry"]
        )
        if out:
            Path(out).write_bytes(bundle)
        self.stdout.write(
            f"{file}: in order and opened: "
            + ", ".join(f"{count} {kind}" for kind, count in sorted(resources.items()))
            + (f"; written to {out}." if out else ".")
        )
