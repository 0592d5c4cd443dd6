"""Per-message view and pflogsumm-style totals of a parsed mail log.

`summary` counts the way pflogsumm 1.1.5 (Debian 12) does, so that its
"Grand Totals" and ours agree on the same log:

- received: one per `smtpd ... client=` line and per `pickup ... uid=|sender=`
  line.  The chapter's content filter re-injects every port-25 message via
  sendmail, so such a message is received twice (smtpd, then pickup);
- delivered: one per recipient line with `status=sent`, except "forwarded
  as"; the hand-over to the `spamassassin` pipe counts too, so a filtered
  message is delivered twice (pipe, then lmtp);
- deferred: queue ids with at least one `status=deferred`; bounced: lines
  with `status=bounced`; rejected: `reject:` lines of smtpd and cleanup;
- bytes received: the qmgr `size=` of each received queue id; bytes
  delivered: that size once per delivered recipient line;
- senders: distinct senders of received queue ids; recipients: distinct
  addresses of delivered lines (domains lower-cased, as pflogsumm does).

`messages` is the truthful view: one row per queue id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

_POSTFIX = "postfix"


def _postfix(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["program"].fillna("").str.startswith(_POSTFIX)]


def _daemon(df: pd.DataFrame) -> pd.Series:
    """The last part of the program name: postfix/submission/smtpd -> smtpd."""
    return df["program"].fillna("").str.rsplit("/", n=1).str[-1]


def spam_verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """spamd's verdict lines, each tied to the Message-ID it scanned.

    A spamd child logs `processing message <mid>`, then `clean message` or
    `identified spam`, then `result: ... mid=<mid>`, all under its own pid and
    one message at a time: the mid of the last `processing` line of the same
    pid names the verdict.
    """
    spamd = df[df["program"] == "spamd"].copy()
    spamd["spamd_mid"] = spamd.groupby("pid")["spamd_mid"].ffill()
    verdicts = spamd[spamd["spam"].notna()]
    return verdicts[["timestamp", "pid", "spamd_mid", "spam", "score", "threshold"]]


def messages(df: pd.DataFrame) -> pd.DataFrame:
    """One row per queue id: sender, recipients, size, status, delay, relay, spam.

    Lines are joined on the queue id across smtpd/pickup, cleanup, qmgr and
    the delivery agents (smtp, lmtp, local, pipe).  The spam verdict is tied
    through the Message-ID: cleanup logs it per queue id, spamd logs it per
    scan (see `spam_verdicts`), so both the filtered copy and the re-injected
    one carry the verdict.  Status is the last delivery status seen.
    """
    postfix = _postfix(df)
    postfix = postfix[postfix["queue_id"].notna() & (postfix["queue_id"] != "NOQUEUE")]
    grouped = postfix.groupby("queue_id", sort=False)
    # Shortcoming: one status per queue id (the last one logged); a message whose
    # recipients ended differently shows only its last recipient's status.
    deliveries = postfix[postfix["to"].notna() & postfix["status"].notna()]
    by_qid = deliveries.groupby("queue_id", sort=False)
    table = pd.DataFrame(
        {
            "first_seen": grouped["timestamp"].min(),
            "sender": grouped["from"].first(),
            "size": grouped["size"].max(),
            "client": grouped["client"].first(),
            "sasl_username": grouped["sasl_username"].first(),
            "message_id": grouped["message_id"].first(),
            "recipients": by_qid["to"].agg(lambda s: sorted(set(s))),
            "status": by_qid["status"].last(),
            "delay": by_qid["delay"].max(),
            "relay": by_qid["relay"].last(),
        }
    )
    verdicts = spam_verdicts(df).drop_duplicates("spamd_mid", keep="last")
    spam = verdicts.set_index("spamd_mid")
    table["spam"] = table["message_id"].map(spam["spam"])
    table["score"] = table["message_id"].map(spam["score"])
    table.index.name = "queue_id"
    return table.sort_values("first_seen").reset_index()


@dataclass
class Summary:
    """pflogsumm's Grand Totals, per-hour traffic and top lists."""

    received: int
    delivered: int
    forwarded: int
    deferred: int
    deferrals: int
    bounced: int
    rejected: int
    bytes_received: int
    bytes_delivered: int
    senders: int
    recipients: int
    per_hour: pd.DataFrame = field(repr=False)
    top_senders: pd.Series = field(repr=False)
    top_recipients: pd.Series = field(repr=False)
    top_recipient_domains: pd.Series = field(repr=False)


def _lower_domain(address: pd.Series) -> pd.Series:
    """pflogsumm lower-cases the domain part only."""
    parts = address.str.rpartition("@")
    return (parts[0] + parts[1] + parts[2].str.lower()).where(parts[1] == "@", address)


def _received(postfix: pd.DataFrame) -> pd.DataFrame:
    daemon = _daemon(postfix)
    smtpd = (daemon == "smtpd") & postfix["client"].notna()
    pickup = (daemon == "pickup") & postfix["message"].str.contains(
        r": (?:sender|uid)=", regex=True, na=False
    )
    return postfix[(smtpd | pickup) & (postfix["queue_id"] != "NOQUEUE")]


def _sizes(postfix: pd.DataFrame) -> pd.DataFrame:
    """The first `from=<...>, size=` line of each queue id (qmgr's)."""
    sized = postfix[postfix["size"].notna() & postfix["from"].notna()]
    sized = sized[_daemon(sized) != "pickup"]
    return sized.drop_duplicates("queue_id").set_index("queue_id")


def _rejected(postfix: pd.DataFrame) -> pd.Series:
    return postfix["message"].str.contains(
        r"(?:^|: )(?:milter-)?reject: ", regex=True, na=False
    ) & _daemon(postfix).isin(["smtpd", "cleanup", "postscreen"])


def summary(df: pd.DataFrame) -> Summary:
    """Totals counted with pflogsumm's rules (see the module docstring)."""
    postfix = _postfix(df)
    received = _received(postfix)
    sizes = _sizes(postfix)
    got = sizes[sizes.index.isin(received["queue_id"])]
    senders = _lower_domain(got["from"].replace("", "from=<>"))
    lines = postfix[postfix["to"].notna() & postfix["relay"].notna()]
    sent = lines[lines["status"] == "sent"]
    forwarded = sent["message"].str.contains("forwarded as ", na=False)
    delivered = sent[~forwarded]
    deferred = lines[lines["status"] == "deferred"]
    rejected = postfix[_rejected(postfix)]
    recipients = _lower_domain(delivered["to"])
    return Summary(
        received=len(received),
        delivered=len(delivered),
        forwarded=int(forwarded.sum()),
        deferred=deferred["queue_id"].nunique(),
        deferrals=len(deferred),
        bounced=int((lines["status"] == "bounced").sum()),
        rejected=len(rejected),
        bytes_received=int(got["size"].sum()),
        bytes_delivered=int(delivered["queue_id"].map(sizes["size"]).fillna(0).sum()),
        senders=senders.nunique(),
        recipients=recipients.nunique(),
        per_hour=_per_hour(received, delivered, deferred, lines, rejected),
        top_senders=senders.value_counts(),
        top_recipients=recipients.value_counts(),
        top_recipient_domains=recipients.str.rpartition("@")[2].value_counts(),
    )


def _per_hour(
    received: pd.DataFrame,
    delivered: pd.DataFrame,
    deferred: pd.DataFrame,
    lines: pd.DataFrame,
    rejected: pd.DataFrame,
) -> pd.DataFrame:
    """Counts per hour of the day (0-23), as pflogsumm's Per-Hour table."""
    parts = {
        "received": received,
        "delivered": delivered,
        "deferred": deferred,
        "bounced": lines[lines["status"] == "bounced"],
        "rejected": rejected,
    }
    hours = pd.RangeIndex(24, name="hour")
    return pd.DataFrame(
        {
            name: part["timestamp"].dt.hour.value_counts().reindex(hours, fill_value=0)
            for name, part in parts.items()
        }
    )
