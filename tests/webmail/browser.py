"""Roundcube in a real headless Chromium, that talks to the lab box only.

Chromium resolves the lab's web names to the box and nothing else
(`--host-resolver-rules`), and accepts the lab's self-signed certificate by
its public key alone (`--ignore-certificate-errors-spki-list`): any other
certificate is still refused, so this is stricter than Playwright's
`ignore_https_errors=True`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

if TYPE_CHECKING:
    from playwright.sync_api import Page, Playwright

# Debian's chromium; MAILLAB_CHROMIUM names another build of it.
CHROMIUM = Path(os.environ.get("MAILLAB_CHROMIUM", "/usr/bin/chromium"))
WEB_NAMES = ("webmail.monentreprise.local",)
URL = "https://webmail.monentreprise.local/"
# Chromium's own switches for a quiet, throw-away browser (the profile is
# given by Playwright's user_data_dir, a fresh temporary directory).
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
# Roundcube 1.6's fr_FR texts (program/localization/fr_FR/messages.inc).
# Shortcoming: tied to the chapter's `language = fr_FR`; another language
# needs its own texts here.
SENT = "Le courriel a été envoyé avec succès."
LOGIN_FAILED = "La connexion a échoué."


class Secret:
    """A password that never shows in a repr, a traceback's locals or a log."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return self._value


class WebmailError(AssertionError):
    """Roundcube did not do what a person at the browser would have seen."""


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is missing: apt-get install -y "
            "--no-install-recommends chromium"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is missing: .venv/bin/pip install playwright"
    return None


def spki_pin(pem: str) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a certificate, as Chromium pins it."""
    certificate = x509.load_pem_x509_certificate(pem.encode())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def chromium_args(address: str, *, pin: str | None) -> list[str]:
    """The switches: the lab's names go to `address`, every other name fails."""
    rules = ", ".join(f"MAP {name} {address}" for name in WEB_NAMES)
    args = [*QUIET, f"--host-resolver-rules={rules}, MAP * ~NOTFOUND"]
    if pin is not None:
        args.append(f"--ignore-certificate-errors-spki-list={pin}")
    return args


@dataclass
class Webmail:
    """One browser page on Roundcube, and every URL the browser asked for."""

    page: Page
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to anything but the lab's web names (data: and blob: aside).

        Shortcoming: only the page's requests are seen; Chromium's own
        (updates, safe browsing) are kept off by the switches and the
        resolver rules, not recorded.
        """
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname not in WEB_NAMES
        ]

    def log_in(self, user: str, password: Secret) -> None:
        """Fill Roundcube's login form; raise with Roundcube's notice if refused."""
        page = self.page
        page.goto(URL)
        page.fill("input[name=_user]", user)
        try:
            page.fill("input[name=_pass]", password.reveal())
        except Exception:
            # Not chained: Playwright's message could quote what was typed.
            raise WebmailError("could not type into the _pass field") from None
        page.click("#rcmloginsubmit")
        page.locator(
            "#mailboxlist, #messagestack .warning, #messagestack .error"
        ).first.wait_for()
        if not page.locator("#mailboxlist").count():
            raise WebmailError(f"login refused: {self.notice()}")
        self.wait_ready()

    def wait_ready(self) -> None:
        """Until Roundcube has started and is idle (a click does nothing before)."""
        self.page.wait_for_function(
            "() => window.rcmail && rcmail.loaded && !rcmail.busy"
        )

    def notice(self) -> str:
        """What Roundcube last told the user (its #messagestack), if anything."""
        stack = self.page.locator("#messagestack")
        return stack.inner_text().strip() if stack.count() else ""

    def read_message(self, subject: str) -> str:
        """Search the subject, open the message (double click): its body."""
        # Roundcube's search box: the list shows one page (50) at a time.
        self.page.fill("#mailsearchform", subject)
        self.page.press("#mailsearchform", "Enter")
        self.wait_ready()
        row = self.page.locator("#messagelist tr", has_text=subject)
        row.first.dblclick()
        body = self.page.locator("#messagebody")
        body.wait_for()
        self.wait_ready()
        return body.inner_text()

    def send_message(self, to: str, subject: str, body: str) -> None:
        """Write a message in Roundcube's composer and send it."""
        page = self.page
        page.click("#taskmenu a.compose")
        page.wait_for_selector("#compose-subject")
        self.wait_ready()
        page.locator("#compose_to .recipient-input input").fill(to)
        page.fill("#compose-subject", subject)
        page.fill("#composebody", body)
        page.click("button.send")
        outcome = page.locator(
            "#messagestack .confirmation, #messagestack .error"
        ).first
        outcome.wait_for()
        if SENT not in self.notice():
            raise WebmailError(f"Roundcube did not send: {self.notice()}")

    def screenshot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextmanager
def open_webmail(
    playwright: Playwright, address: str, pin: str | None
) -> Iterator[Webmail]:
    """A fresh Chromium profile and page; the profile is removed afterwards.

    The profile goes away because it holds Roundcube's session cookie.
    """
    with TemporaryDirectory(prefix="maillab-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=chromium_args(address, pin=pin),
            headless=True,
            locale="fr-FR",
        )
        try:
            webmail = Webmail(context.new_page())
            context.on("request", lambda request: webmail.requests.append(request.url))
            webmail.page.set_default_timeout(TIMEOUT_MS)
            yield webmail
        finally:
            context.close()
