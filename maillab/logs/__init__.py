"""Mail and spam logs: mail.log to pandas, pflogsumm-style summaries, plots.

text = read_mail_log(lab)          # /var/log/mail.log, read as root
df = parse_mail_log(text)          # one row per line
messages(df)                       # one row per queue id
summary(df)                        # pflogsumm's Grand Totals, per hour, top lists
spam_stats(df)                     # spamd: scanned, spam, ham, rate, histogram
plot_traffic(df); plot_spam(df)    # matplotlib Figures
"""

from maillab.logs.maillog import parse_mail_log, read_mail_log
from maillab.logs.plot import plot_spam, plot_traffic
from maillab.logs.spam import SpamStats, spam_stats
from maillab.logs.summary import Summary, messages, spam_verdicts, summary

__all__ = [
    "SpamStats",
    "Summary",
    "messages",
    "parse_mail_log",
    "plot_spam",
    "plot_traffic",
    "read_mail_log",
    "spam_stats",
    "spam_verdicts",
    "summary",
]
