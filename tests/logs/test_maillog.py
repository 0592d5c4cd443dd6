"""parse_mail_log on single lines and on the real mail.log fixture."""

from __future__ import annotations

import pandas as pd

from maillab.logs import parse_mail_log

RFC = "2026-12-04T07:57:40.059241+00:00 mail "


def one(line: str, **kwargs: object) -> pd.Series:
    frame = parse_mail_log(line, **kwargs)  # type: ignore[arg-type]
    assert len(frame) == 1
    return frame.iloc[0]


def test_rfc3339_qmgr_line():
    row = one(
        RFC + "postfix/qmgr[4100]: 90BD91B47FA: from=<alice@exterieur.test>, "
        "size=417, nrcpt=1 (queue active)"
    )
    assert row["timestamp"] == pd.Timestamp("2026-12-04T07:57:40.059241Z")
    assert (row["host"], row["program"], row["pid"]) == ("mail", "postfix/qmgr", 4100)
    assert row["queue_id"] == "90BD91B47FA"
    assert (row["from"], row["size"], row["nrcpt"]) == ("alice@exterieur.test", 417, 1)


def test_classic_syslog_line_takes_the_given_year():
    row = one(
        "Dec  4 07:57:40 mail postfix/smtpd[4000]: 92DD71B47FC: "
        "client=hote.monentreprise.local[192.168.56.1]",
        year=2025,
    )
    assert row["timestamp"] == pd.Timestamp("2025-12-04T07:57:40Z")
    assert row["client"] == "hote.monentreprise.local[192.168.56.1]"
    assert row["program"] == "postfix/smtpd"


def test_delivery_line_fields():
    row = one(
        RFC + "postfix/lmtp[4029]: F2E031B48C3: to=<jean@monentreprise.local>, "
        "orig_to=<equipe@monentreprise.local>, relay=mail.monentreprise.local"
        "[private/dovecot-lmtp], delay=0.01, delays=0.01/0/0/0.01, dsn=2.0.0, "
        "status=sent (250 2.0.0 <jean@monentreprise.local> oI19O9 Saved)"
    )
    assert row["to"] == "jean@monentreprise.local"
    assert row["orig_to"] == "equipe@monentreprise.local"
    assert row["relay"] == "mail.monentreprise.local[private/dovecot-lmtp]"
    assert (row["delay"], row["delays"]) == (0.01, "0.01/0/0/0.01")
    assert (row["dsn"], row["status"]) == ("2.0.0", "sent")


def test_submission_line_has_sasl_username():
    row = one(
        RFC + "postfix/submission/smtpd[4016]: B394B1B4803: client=hote[192.168.56.1]"
        ", sasl_method=PLAIN, sasl_username=jean"
    )
    assert (row["program"], row["sasl_username"]) == (
        "postfix/submission/smtpd",
        "jean",
    )


def test_noqueue_reject():
    row = one(
        RFC + "postfix/smtpd[4000]: NOQUEUE: reject: RCPT from hote[192.168.56.1]: "
        "550 5.1.1 <inconnu@monentreprise.local>: Recipient address rejected: User "
        "unknown in local recipient table; from=<alice@exterieur.test> "
        "to=<inconnu@monentreprise.local> proto=ESMTP helo=<mx.exterieur.test>"
    )
    assert row["queue_id"] == "NOQUEUE"
    assert (row["reject_stage"], row["reject_code"], row["dsn"]) == (
        "RCPT",
        "550",
        "5.1.1",
    )
    assert row["reject_reason"].endswith("User unknown in local recipient table")
    assert (row["from"], row["to"]) == (
        "alice@exterieur.test",
        "inconnu@monentreprise.local",
    )


def test_spamd_verdicts():
    frame = parse_mail_log(
        RFC + "spamd[2382]: spamd: clean message (3.5/5.0) for debian-spamd:108 in "
        "0.1 seconds, 371 bytes.\n"
        + RFC
        + "spamd[2383]: spamd: identified spam (999.0/5.0) for debian-spamd:108\n"
    )
    assert frame["spam"].tolist() == [False, True]
    assert frame["score"].tolist() == [3.5, 999.0]
    assert frame["threshold"].tolist() == [5.0, 5.0]


def test_unparseable_and_non_utf8_lines_are_kept():
    data = (
        b"garbage without a timestamp\n"
        + RFC.encode()
        + b"postfix/cleanup[1]: ABCDEF123: message-id=<caf\xe9@x>\n"
        + b"2026-13-45T99:00:00+00:00 mail dovecot: bad date\n"
    )
    frame = parse_mail_log(data)
    assert frame["parsed"].tolist() == [False, True, False]
    assert frame["raw"][0] == "garbage without a timestamp"
    assert frame["message_id"][1] == "caf\ufffd@x"


def test_the_real_log_parses_every_line(log_frame, mail_log_text):
    assert len(log_frame) == len(mail_log_text.splitlines()) == 340
    assert log_frame["parsed"].all()
    programs = set(log_frame["program"])
    assert {"postfix/qmgr", "postfix/lmtp", "postfix/pipe", "spamd"} <= programs
    assert {"dovecot", "opendkim", "postfix/submission/smtpd"} <= programs
