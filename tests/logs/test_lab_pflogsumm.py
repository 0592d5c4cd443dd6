"""A known mix sent to a fresh provisioned box: our summary agrees with pflogsumm's.

The mix comes from 192.168.56.1 (not in the lab's mynetworks).
"""

from __future__ import annotations

import time

import pytest

from maillab.logs import parse_mail_log, read_mail_log, spam_stats, summary
from maillab.logs.pflogsumm import (
    parse_pflogsumm_totals,
    run_pflogsumm,
    summary_totals,
)
from maillab.logs.traffic import send_mix

pytestmark = pytest.mark.lab


def settle(host, marker: str, count: int, timeout: float = 30) -> str:
    """The log, once `marker` appears `count` times (the deliveries are done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = read_mail_log(host)
        if text.count(marker) >= count:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{marker!r} not seen {count} times within {timeout} s")


def test_summary_agrees_with_pflogsumm_on_a_real_log(provisioned):
    sent = send_mix(
        provisioned.address,
        jean_password=provisioned.passwords["jean"],
        tls=provisioned.tls(),
        ham=6,
        spam=3,
        unknown=2,
    )
    assert all(reply.startswith("550 5.1.1") for reply in sent.refused)
    # 6 ham (2 of them to equipe: 3 lmtp each) + 3 spam + the bounce report.
    text = settle(provisioned.host, "relay=mail.monentreprise.local[private/", 14)
    text = settle(provisioned.host, "status=deferred", 1)
    ours = summary(parse_mail_log(text))
    theirs = parse_pflogsumm_totals(run_pflogsumm(provisioned.host))
    # Lines written between our read and pflogsumm's run would break the
    # comparison; the box is idle once the deliveries are logged.
    assert summary_totals(ours) == theirs
    assert (ours.rejected, ours.bounced, ours.deferred) == (2, 1, 1)
    # carol@exterieur.test is delivered when the outside host listens.
    assert ours.received == 9 * 2 + 3
    stats = spam_stats(parse_mail_log(text))
    assert (stats.scanned, stats.spam) == (9, 3)
