"""The browser helper without a browser: switches, the certificate pin, secrets."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from . import browser


def _self_signed_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl here")
def test_spki_pin_agrees_with_openssl():
    pem = _self_signed_pem()
    script = (
        "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der"
        " | openssl dgst -sha256 -binary | openssl base64 -A"
    )
    expected = subprocess.run(
        ["sh", "-c", script], input=pem, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert browser.spki_pin(pem) == expected


def test_chromium_resolves_the_webmail_name_to_the_box_and_nothing_else():
    args = browser.chromium_args("192.168.56.42", pin="AAAA")
    assert (
        "--host-resolver-rules=MAP webmail.monentreprise.local 192.168.56.42, "
        "MAP * ~NOTFOUND"
    ) in args
    assert "--ignore-certificate-errors-spki-list=AAAA" in args
    assert {"--headless", "--disable-quic", "--disable-background-networking"} <= set(
        args
    )
    assert not any(a.startswith("--user-data-dir") for a in args)  # Playwright's


def test_without_a_pin_no_certificate_error_is_ignored():
    args = browser.chromium_args("192.168.56.42", pin=None)
    assert not any("ignore-certificate" in a for a in args)


def test_a_secret_never_shows_in_its_repr():
    secret = browser.Secret("s3cr3t-value")
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in repr({"jean": secret})
    assert secret.reveal() == "s3cr3t-value"


def test_foreign_requests_are_those_to_other_hosts():
    webmail = browser.Webmail(page=None)  # type: ignore[arg-type]
    webmail.requests = [
        "https://webmail.monentreprise.local/?_task=mail",
        "data:image/png;base64,AAAA",
        "https://fonts.example.org/font.woff2",
    ]
    assert webmail.foreign_requests() == ["https://fonts.example.org/font.woff2"]


def test_a_missing_chromium_is_named_with_its_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    reason = browser.missing_browser()
    assert reason is not None and "apt-get install" in reason
    assert str(tmp_path / "chromium") in reason
