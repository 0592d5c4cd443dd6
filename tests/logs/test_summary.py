"""summary, messages and spam_stats on the real mail.log, against pflogsumm's report."""

from __future__ import annotations

import re

from matplotlib.figure import Figure

from maillab.logs import messages, plot_spam, plot_traffic, spam_stats, summary
from maillab.logs.pflogsumm import parse_pflogsumm_totals, summary_totals


def test_grand_totals_agree_with_pflogsumm(log_frame, pflogsumm_report):
    expected = parse_pflogsumm_totals(pflogsumm_report)
    assert len(expected) == 10
    assert summary_totals(summary(log_frame)) == expected


def test_the_fixture_totals(log_frame):
    # 9 on port 25 + their 9 re-injections through pickup + 3 submissions.
    result = summary(log_frame)
    assert (result.received, result.delivered, result.rejected) == (21, 24, 2)
    assert (result.deferred, result.bounced, result.forwarded) == (1, 1, 0)


def test_per_hour_agrees_with_pflogsumm(log_frame, pflogsumm_report):
    row = re.search(r"^\s*0800-0900((?:\s+\d+){5})", pflogsumm_report, re.M)
    assert row is not None
    ours = summary(log_frame).per_hour.loc[8].tolist()
    assert ours == [int(n) for n in row[1].split()]
    assert summary(log_frame).per_hour.drop(index=8).to_numpy().sum() == 0


def test_top_lists(log_frame):
    result = summary(log_frame)
    assert result.top_senders.to_dict() == {
        "alice@exterieur.test": 18,
        "jean@monentreprise.local": 3,
    }
    assert result.top_recipients.index[0] == "marie@monentreprise.local"
    assert result.top_recipient_domains.to_dict() == {
        "monentreprise.local": 23,
        "exterieur.test": 1,
    }


def test_messages_one_row_per_queue_id(log_frame):
    table = messages(log_frame)
    assert len(table) == table["queue_id"].nunique() == 22
    by_status = table["status"].value_counts().to_dict()
    assert by_status == {"sent": 20, "deferred": 1, "bounced": 1}
    deferred = table[table["status"] == "deferred"].iloc[0]
    assert deferred["recipients"] == ["erin@[192.168.56.1]"]
    assert deferred["sasl_username"] == "jean"
    assert deferred["relay"] == "none"


def test_messages_carry_spamd_verdict_through_message_id(log_frame):
    table = messages(log_frame)
    scanned = table[table["spam"].notna()]
    # 9 scanned messages, each seen twice: the filtered copy and the re-injected one.
    assert len(scanned) == 18
    assert scanned["spam"].astype(bool).sum() == 6
    assert set(scanned.loc[scanned["spam"].astype(bool), "score"]) == {1000.4}
    equipe = table[table["recipients"].map(len) == 3]
    assert len(equipe) == 2 and not equipe["spam"].astype(bool).any()


def test_spam_stats(log_frame):
    stats = spam_stats(log_frame)
    assert (stats.scanned, stats.spam, stats.ham) == (9, 3, 6)
    assert stats.spam_rate == 3 / 9
    assert stats.threshold == 5.0
    assert stats.histogram.to_dict() == {0: 6, 1000: 3}


def test_plots_return_figures(log_frame):
    traffic = plot_traffic(log_frame)
    spam = plot_spam(log_frame)
    assert isinstance(traffic, Figure) and isinstance(spam, Figure)
    heights = [p.get_height() for p in traffic.axes[0].patches]
    assert sum(heights) == 21 + 24 + 1 + 1 + 2
    assert [p.get_height() for p in spam.axes[1].patches] == [6, 3]
