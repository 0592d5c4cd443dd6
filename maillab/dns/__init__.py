"""SPF, DKIM and DMARC records: parse, validate, evaluate, query.

Every function that queries DNS takes `resolver=`: `lab_resolver(host)` for
the lab's BIND, or any dnspython resolver.  `check_*` never raises.
"""

from maillab.dns.dkim import DkimKey, DkimKeyError, parse_dkim_key
from maillab.dns.dkim_check import (
    DkimCheck,
    SecretText,
    check_dkim_key,
    lint_dkim_key,
    matches_private_key,
    read_private_key,
)
from maillab.dns.dmarc import (
    DmarcRecord,
    ReportUri,
    is_aligned,
    organizational_domain,
    parse_dmarc,
)
from maillab.dns.dmarc_check import DmarcCheck, check_dmarc, lint_dmarc
from maillab.dns.resolver import (
    DnsQueryError,
    RecordSyntaxError,
    lab_resolver,
    txt_records,
)
from maillab.dns.spf import Mechanism, Modifier, SpfRecord, lint_spf, parse_spf
from maillab.dns.spf_check import SpfResult, SpfVerdict, check_host, check_spf

__all__ = [
    "DkimCheck",
    "DkimKey",
    "DkimKeyError",
    "DmarcCheck",
    "DmarcRecord",
    "DnsQueryError",
    "Mechanism",
    "Modifier",
    "RecordSyntaxError",
    "ReportUri",
    "SecretText",
    "SpfRecord",
    "SpfResult",
    "SpfVerdict",
    "check_dkim_key",
    "check_dmarc",
    "check_host",
    "check_spf",
    "is_aligned",
    "lab_resolver",
    "lint_dkim_key",
    "lint_dmarc",
    "lint_spf",
    "matches_private_key",
    "organizational_domain",
    "parse_dkim_key",
    "parse_dmarc",
    "parse_spf",
    "read_private_key",
    "txt_records",
]
