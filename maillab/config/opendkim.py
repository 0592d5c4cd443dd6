"""OpenDKIM: opendkim.conf, KeyTable, SigningTable and TrustedHosts (OpenDKIM 2.11).

opendkim.conf is `Name value` per line: a `#` starts a comment anywhere,
names are case-insensitive, the value runs to the end of the line, and the
last line for a name wins.  Data sets (KeyTable, SigningTable, InternalHosts,
...) name their type with a prefix: `refile:` for wildcard patterns,
`file:` (or a bare absolute path) for exact keys, `csl:` (or anything else)
for a comma-separated list.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from maillab.config.findings import Finding, Severity

if TYPE_CHECKING:
    from maillab.remote.host import Host

log = logging.getLogger(__name__)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.lower().split())


# Parameter names and types, from opendkim.conf(5) of Debian 12 (2.11.0).
BOOLEAN_PARAMETERS = _words(
    """
    AllowSHA1Only AlwaysAddARHeader AuthservIDWithJobID AutoRestart Background
    CaptureUnknownErrors Diagnostics DisableCryptoInit DNSConnect DomainKeysCompat
    EnableCoredumps FixCRLF IdentityHeaderRemove IgnoreMalformedMail
    KeepAuthResults KeepTemporaryFiles LDAPDisableCache LDAPUseTLS LogResults
    LogWhy MultipleSignatures NoHeaderB Quarantine QueryCache RemoveARAll
    RemoveOldSignatures RequestReports RequiredHeaders RequireSafeKeys ResignAll
    ResolverTracing SendReports SoftStart SoftwareHeader StrictHeaders
    StrictTestMode SubDomains Syslog SyslogSuccess VBR-TrustedCertifiersOnly
    WeakSyntaxChecks
    """
)
INTEGER_PARAMETERS = _words(
    """
    AutoRestartCount ClockDrift DNSTimeout LDAPKeepaliveIdle LDAPKeepaliveInterval
    LDAPKeepaliveProbes LDAPTimeout MaximumHeaders MaximumSignaturesToVerify
    MaximumSignedBytes MilterDebug MinimumKeyBits SignatureTTL UMask
    """
)
DATASET_PARAMETERS = _words(
    """
    BodyLengthDB Domain DontSignMailTo ExemptDomains ExternalIgnoreList
    InternalHosts KeyTable MacroList MTA MustBeSigned OmitHeaders OversignHeaders
    PeerList POPDBFile RemoveARFrom ReplaceHeaders ResignMailTo SenderHeaders
    SignHeaders SigningTable TestDNSData TrustSignaturesFrom
    """
)
STRING_PARAMETERS = _words(
    """
    AuthservID AutoRestartRate BaseDirectory BogusKey Canonicalization
    ChangeRootDirectory DiagnosticDirectory FinalPolicyScript IdentityHeader
    Include KeyFile LDAPAuthMechanism LDAPAuthName LDAPAuthRealm LDAPAuthUser
    LDAPBindPassword LDAPBindUser Mode MTACommand Nameservers On-BadSignature
    On-Default On-DNSError On-InternalError On-KeyNotFound On-NoSignature
    On-Security On-SignatureError PidFile RedirectFailuresTo ReplaceRules
    ReportAddress ReportBccAddress ResolverConfiguration ScreenPolicyScript
    SelectCanonicalizationHeader Selector SenderMacro SetupPolicyScript
    SignatureAlgorithm SMTPURI Socket Statistics StatisticsName
    StatisticsPolicyScript StatisticsPrefix SyslogFacility SyslogName
    TemporaryDirectory TestPublicKeys TrustAnchorFile UnprotectedKey UserID
    VBR-Certifiers VBR-PurgeFields VBR-TrustedCertifiers VBR-Type
    """
)
PARAMETERS = (
    BOOLEAN_PARAMETERS | INTEGER_PARAMETERS | DATASET_PARAMETERS | STRING_PARAMETERS
)
TRUE_WORDS = frozenset({"yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "0", "n"})
DATASET_TYPES = _words(
    "file refile csl db dsn ldap ldaps ldapi lua memcache erlang mdb"
)
SIGNING_ALGORITHMS = frozenset({"rsa-sha1", "rsa-sha256", "ed25519-sha256"})
CANONICALIZATIONS = frozenset({"simple", "relaxed"})
# Codes the real `opendkim -n` does not check (they show only at run time).
BEYOND_OPENDKIM_N = frozenset(
    {
        "opendkim.not-utf8",
        "opendkim.socket",
        "opendkim.no-socket",
        "opendkim.postfix-milter",
        "opendkim.both-signing-setups",
        "opendkim.wildcard-needs-refile",
        "opendkim.unknown-key-name",
        "opendkim.bad-key-entry",
        "opendkim.unused-key",
        "opendkim.hosts-wildcard",
        "opendkim.bad-host",
        "opendkim.bad-signing-entry",
    }
)


@dataclass(frozen=True)
class Setting:
    name: str  # as written
    value: str
    line: int


@dataclass(frozen=True)
class Dataset:
    """A data set value: its type (file, refile, csl, ...) and where it is."""

    kind: str
    location: str  # the path, the list, or the DSN
    line: int

    @property
    def entries(self) -> list[str]:
        """The elements of a csl data set."""
        return [e.strip() for e in self.location.split(",") if e.strip()]


@dataclass
class OpendkimConf:
    path: str
    text: str
    settings: list[Setting] = field(default_factory=list)
    decode_error: str | None = None

    def get(self, name: str) -> Setting | None:
        """The line OpenDKIM uses for a parameter (the last one)."""
        found = [s for s in self.settings if s.name.lower() == name.lower()]
        return found[-1] if found else None

    def value(self, name: str) -> str | None:
        setting = self.get(name)
        return setting.value if setting else None

    def boolean(self, name: str) -> bool | None:
        value = (self.value(name) or "").lower()
        return True if value in TRUE_WORDS else False if value in FALSE_WORDS else None

    def integer(self, name: str) -> int | None:
        """An integer parameter, read like C's strtol with base 0 (010 is 8)."""
        value = self.value(name)
        return parse_integer(value) if value is not None else None

    def dataset(self, name: str) -> Dataset | None:
        setting = self.get(name)
        return parse_dataset(setting.value, setting.line) if setting else None


def parse_integer(value: str) -> int | None:
    """0x1f is 31, 010 is 8, 10 is 10; None when it is not a number."""
    match = re.fullmatch(r"([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)", value)
    if not match:
        return None
    digits = match[2]
    base = 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") else 10
    number = int(digits, base)
    return -number if match[1] == "-" else number


def decode(data: str | bytes) -> tuple[str, str | None]:
    """Text from str or bytes, and a message when the bytes were not UTF-8."""
    if isinstance(data, str):
        return data, None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "replace"), f"not valid UTF-8 at byte {exc.start}"


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text without comment), for the lines that hold something."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if content:
            lines.append((number, content))
    return lines


def parse_opendkim_conf(
    data: str | bytes, *, path: str = "opendkim.conf"
) -> OpendkimConf:
    """Parse opendkim.conf; never raises (every line can be read)."""
    text, decode_error = decode(data)
    conf = OpendkimConf(path, text, decode_error=decode_error)
    for number, content in _content_lines(text):
        parts = re.split(r"\s+", content, maxsplit=1)
        name, value = parts[0], parts[1] if len(parts) > 1 else ""
        conf.settings.append(Setting(name, value.strip(), number))
    return conf


def parse_dataset(value: str, line: int = 0) -> Dataset:
    """The type and location of a data set, as OpenDKIM chooses them."""
    prefix = re.match(r"([a-z]+):", value)
    if prefix and prefix[1] in DATASET_TYPES:
        kind = "ldap" if prefix[1].startswith("ldap") else prefix[1]
        return Dataset(kind, value[prefix.end() :], line)
    if prefix:
        return Dataset("unknown", value, line)
    if value.endswith(".db"):
        return Dataset("db", value, line)
    if value.startswith("/"):
        return Dataset("file", value, line)
    return Dataset("csl", value, line)


# --- tables -------------------------------------------------------------


@dataclass(frozen=True)
class KeyEntry:
    """A KeyTable line: key name -> domain:selector:private key."""

    name: str
    domain: str
    selector: str
    key: str  # a path (starts with /, ./ or ../) or the key itself
    line: int

    @property
    def is_path(self) -> bool:
        return self.key.startswith(("/", "./", "../"))


@dataclass(frozen=True)
class SigningEntry:
    """A SigningTable line: sender pattern -> key name [signer]."""

    pattern: str
    key_name: str
    signer: str | None
    line: int


@dataclass(frozen=True)
class HostEntry:
    """A TrustedHosts line: an address, network, host or .domain (! = not)."""

    value: str
    negated: bool
    kind: str  # "ip", "network", "host", "domain" or "invalid"
    line: int


@dataclass
class KeyTable:
    path: str
    entries: list[KeyEntry] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    def get(self, name: str) -> KeyEntry | None:
        return next((e for e in self.entries if e.name.lower() == name.lower()), None)


@dataclass
class SigningTable:
    path: str
    refile: bool
    entries: list[SigningEntry] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def _key_value_lines(text: str) -> list[tuple[int, str, str]]:
    found = []
    for number, content in _content_lines(text):
        parts = re.split(r"\s+", content, maxsplit=1)
        found.append((number, parts[0], parts[1] if len(parts) > 1 else ""))
    return found


def parse_key_table(data: str | bytes, *, path: str = "KeyTable") -> KeyTable:
    """Parse a KeyTable file; lines without three fields go to bad_lines."""
    table = KeyTable(path)
    for number, name, value in _key_value_lines(decode(data)[0]):
        fields = value.split(":", 2)
        if len(fields) != 3 or not all(f.strip() for f in fields):
            table.bad_lines.append((number, name))
            continue
        domain, selector, key = (f.strip() for f in fields)
        table.entries.append(KeyEntry(name, domain, selector, key, number))
    return table


def parse_signing_table(
    data: str | bytes, *, path: str = "SigningTable", refile: bool = False
) -> SigningTable:
    """Parse a SigningTable; `refile` says whether patterns are wildcards."""
    table = SigningTable(path, refile)
    for number, pattern, value in _key_value_lines(decode(data)[0]):
        fields = value.split()
        if not fields:
            table.bad_lines.append((number, pattern))
            continue
        signer = fields[1] if len(fields) > 1 else None
        table.entries.append(SigningEntry(pattern, fields[0], signer, number))
    return table


def parse_trusted_hosts(
    data: str | bytes, *, path: str = "TrustedHosts"
) -> list[HostEntry]:
    """Parse a TrustedHosts (InternalHosts, ExternalIgnoreList, PeerList) file."""
    entries = []
    for number, content in _content_lines(decode(data)[0]):
        for word in content.split():
            negated = word.startswith("!")
            value = word[1:] if negated else word
            entries.append(HostEntry(value, negated, host_kind(value), number))
    return entries


_HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)


def host_kind(value: str) -> str:
    """What a TrustedHosts word is: ip, network, host, domain or invalid."""
    bare = value.strip("[]") if value.startswith("[") else value
    try:
        ipaddress.ip_address(bare)
        return "ip"
    except ValueError:
        pass
    if "/" in bare:
        try:
            ipaddress.ip_network(bare, strict=False)
            return "network"
        except ValueError:
            return "invalid"
    if value.startswith(".") and _HOSTNAME.fullmatch(value[1:]):
        return "domain"
    if _HOSTNAME.fullmatch(value) and not re.fullmatch(r"[\d.]+", value):
        return "host"
    return "invalid"


def lookup_keys(address: str) -> list[str]:
    """The keys a plain (file:) SigningTable is searched with, in order."""
    user, _, host = address.lower().rpartition("@")
    labels = host.split(".")
    parents = [".".join(labels[i:]) for i in range(1, len(labels))]
    keys = [f"{user}@{host}", host]
    keys += [f"{user}@.{parent}" for parent in parents]
    keys += [f".{parent}" for parent in parents]
    return keys + [f"{user}@*", "*"]


def _matching_entry(address: str, table: SigningTable) -> SigningEntry | None:
    if table.refile:
        return next(
            (
                e
                for e in table.entries
                if fnmatch.fnmatchcase(address.lower(), _glob(e.pattern.lower()))
            ),
            None,
        )
    by_key: dict[str, SigningEntry] = {}
    for entry in table.entries:
        by_key.setdefault(entry.pattern.lower(), entry)
    return next((by_key[k] for k in lookup_keys(address) if k in by_key), None)


def _glob(pattern: str) -> str:
    """An fnmatch pattern where only `*` is special, as in a refile."""
    return re.sub(r"([?\[\]])", r"[\1]", pattern)


def signing_key_for(
    address: str, signing_table: SigningTable, key_table: KeyTable
) -> KeyEntry | None:
    """The key OpenDKIM signs mail from `address` with, or None.

    Follows OpenDKIM's lookup: refile patterns in file order, other tables
    by exact keys (see lookup_keys); `%` stands for the sender's domain.
    Only the first match counts (MultipleSignatures is not modelled).
    """
    domain = address.rpartition("@")[2].lower()
    entry = _matching_entry(address, signing_table)
    if entry is None:
        return None
    name = domain if entry.key_name == "%" else entry.key_name
    key = key_table.get(name)
    if key is None:
        return None
    if key.domain == "%":
        return KeyEntry(key.name, domain, key.selector, key.key, key.line)
    return key


# --- linting ------------------------------------------------------------


@dataclass
class _Findings:
    items: list[Finding] = field(default_factory=list)

    def add(
        self,
        severity: Severity,
        file: str,
        line: int | None,
        message: str,
        fix: str,
        code: str,
    ) -> None:
        self.items.append(Finding(severity, file, line, message, fix, code))


def lint_opendkim(
    data: str | bytes | OpendkimConf,
    *,
    path: str = "opendkim.conf",
    key_table: str | bytes | None = None,
    signing_table: str | bytes | None = None,
    trusted_hosts: str | bytes | None = None,
) -> list[Finding]:
    """Findings for opendkim.conf and, when given, the texts of its tables.

    Never raises.  The tables are named by the conf's own paths in findings.
    """
    conf = (
        data if isinstance(data, OpendkimConf) else parse_opendkim_conf(data, path=path)
    )
    out = _Findings()
    try:
        _lint_conf(conf, out)
        _lint_tables(conf, out, key_table, signing_table, trusted_hosts)
    except Exception:  # a linter never raises: report the bug as a finding
        log.exception("lint_opendkim failed on %s", conf.path)
        out.add(
            Severity.ERROR,
            conf.path,
            None,
            "the linter failed on this file",
            "report a bug",
            "opendkim.lint-failed",
        )
    return out.items


def _lint_conf(conf: OpendkimConf, out: _Findings) -> None:
    if conf.decode_error:
        out.add(
            Severity.WARNING,
            conf.path,
            None,
            f"the file is {conf.decode_error}",
            "save it as UTF-8",
            "opendkim.not-utf8",
        )
    for setting in conf.settings:
        _lint_setting(conf, setting, out)
    _lint_signing_setup(conf, out)
    _lint_socket(conf, out)


def _lint_setting(conf: OpendkimConf, s: Setting, out: _Findings) -> None:
    name = s.name.lower()
    problem = setting_problem(name, s.value)
    if name not in PARAMETERS:
        out.add(
            Severity.ERROR,
            conf.path,
            s.line,
            f"unrecognized parameter {s.name!r}: opendkim refuses to start",
            "check the name in opendkim.conf(5)",
            "opendkim.unknown-parameter",
        )
    elif not s.value:
        out.add(
            Severity.ERROR,
            conf.path,
            s.line,
            f"{s.name} has no value (required value missing)",
            f"give {s.name} a value or remove the line",
            "opendkim.missing-value",
        )
    elif problem:
        out.add(
            Severity.ERROR,
            conf.path,
            s.line,
            f"{s.name} {s.value!r}: {problem}",
            f"give {s.name} {problem.split(': ')[-1]}",
            "opendkim.invalid-value",
        )


def setting_problem(name: str, value: str) -> str | None:
    """Why opendkim -n refuses a value (None when it accepts it)."""
    lowered = value.lower()
    if name in BOOLEAN_PARAMETERS and lowered not in TRUE_WORDS | FALSE_WORDS:
        return "illegal value: yes or no"
    if name in INTEGER_PARAMETERS and parse_integer(value) is None:
        return "illegal value: a whole number"
    if name == "mode" and not re.fullmatch(r"[sv]+", value):
        return "unknown mode: s, v or sv"
    if name == "canonicalization" and not all(
        part in CANONICALIZATIONS for part in lowered.split("/", 1)
    ):
        return "unknown canonicalization: relaxed/simple, relaxed or simple"
    if name == "signaturealgorithm" and lowered not in SIGNING_ALGORITHMS:
        return "unknown signing algorithm: rsa-sha256"
    if name in DATASET_PARAMETERS and parse_dataset(value).kind == "unknown":
        return "unknown database type: refile:, file:, csl: or a path"
    return None


def _lint_signing_setup(conf: OpendkimConf, out: _Findings) -> None:
    names = {s.name.lower(): s for s in conf.settings if s.value}
    single = [names[n] for n in ("domain", "selector", "keyfile") if n in names]
    if ("keyfile" in names) != ("selector" in names):
        line = (names.get("keyfile") or names["selector"]).line
        out.add(
            Severity.ERROR,
            conf.path,
            line,
            "KeyFile and Selector must both be defined or both be undefined",
            "set both, or remove both",
            "opendkim.keyfile-selector",
        )
    if "domain" in names and "keytable" not in names and len(single) < 3:
        out.add(
            Severity.ERROR,
            conf.path,
            names["domain"].line,
            "Domain requires KeyFile and Selector",
            "add KeyFile and Selector, or use KeyTable and SigningTable",
            "opendkim.domain-needs-key",
        )
    _lint_tables_pair(conf, names, out)
    if "keytable" in names and single:
        _both_setups(conf, single, names["keytable"].line, out)


def _lint_tables_pair(
    conf: OpendkimConf, names: dict[str, Setting], out: _Findings
) -> None:
    """KeyTable and SigningTable go together."""
    if "keytable" in names and not {"signingtable", "setuppolicyscript"} & set(names):
        out.add(
            Severity.ERROR,
            conf.path,
            names["keytable"].line,
            "KeyTable requires either SigningTable or SetupPolicyScript",
            "add SigningTable refile:/etc/opendkim/SigningTable",
            "opendkim.keytable-alone",
        )
    if "signingtable" in names and "keytable" not in names:
        out.add(
            Severity.ERROR,
            conf.path,
            names["signingtable"].line,
            "use of SigningTable requires KeyTable",
            "add KeyTable /etc/opendkim/KeyTable",
            "opendkim.signingtable-alone",
        )


def _both_setups(
    conf: OpendkimConf, single: list[Setting], line: int, out: _Findings
) -> None:
    listed = ", ".join(f"{s.name} (line {s.line})" for s in single)
    out.add(
        Severity.WARNING,
        conf.path,
        single[0].line,
        f"both the single-key "
        f"setup ({listed}) and KeyTable (line {line}) are set: KeyTable "
        f"wins and the single-key lines are ignored",
        "keep one setup: "
        "remove Domain, Selector and KeyFile when using KeyTable and "
        "SigningTable",
        "opendkim.both-signing-setups",
    )


_SOCKET = re.compile(
    r"(?:(?:local|unix):)?/\S+"
    r"|inet6?:\d{1,5}(?:@(?:\[[0-9A-Fa-f:.]+\]|[\w.-]+))?"
)


def _lint_socket(conf: OpendkimConf, out: _Findings) -> None:
    socket = conf.get("Socket")
    if socket is None:
        out.add(
            Severity.ERROR,
            conf.path,
            None,
            "no Socket: opendkim will not start (the milter socket must be specified)",
            "add Socket local:/var/spool/postfix/opendkim/opendkim.sock",
            "opendkim.no-socket",
        )
        return
    if not socket.value or not _SOCKET.fullmatch(socket.value):
        out.add(
            Severity.ERROR,
            conf.path,
            socket.line,
            f"Socket {socket.value!r} is not a milter socket",
            "write local:/path/to/sock or "
            "inet:PORT@HOST (for example inet:8891@localhost)",
            "opendkim.socket",
        )
        return
    milter = postfix_milter(socket.value)
    if milter:
        out.add(
            Severity.INFO,
            conf.path,
            socket.line,
            f"Postfix reaches this socket as smtpd_milters = {milter}",
            "main.cf's smtpd_milters and non_smtpd_milters must name it so "
            "(`maillab lint` on the lab compares them)",
            "opendkim.postfix-milter",
        )


def postfix_milter(socket: str) -> str | None:
    """What Postfix (chrooted in /var/spool/postfix) writes for this socket."""
    inet = re.fullmatch(r"inet6?:(\d+)(?:@\[?([^\]]+)\]?)?", socket)
    if inet:
        return f"inet:{inet[2] or 'localhost'}:{inet[1]}"
    path = re.sub(r"^(?:local|unix):", "", socket)
    chroot = "/var/spool/postfix/"
    if path.startswith(chroot):
        return f"unix:/{path[len(chroot) :]}"
    return None  # outside the chroot: Postfix's smtpd cannot reach it


def _lint_tables(
    conf: OpendkimConf,
    out: _Findings,
    key_text: str | bytes | None,
    signing_text: str | bytes | None,
    hosts_text: str | bytes | None,
) -> None:
    keys = signing = None
    key_set, signing_set = conf.dataset("KeyTable"), conf.dataset("SigningTable")
    if key_text is not None and key_set is not None:
        keys = parse_key_table(key_text, path=key_set.location)
        _lint_key_table(keys, out)
    if signing_text is not None and signing_set is not None:
        signing = parse_signing_table(
            signing_text, path=signing_set.location, refile=signing_set.kind == "refile"
        )
        _lint_signing_table(conf, signing, out)
    if keys is not None and signing is not None:
        _lint_key_names(keys, signing, out)
    hosts_set = conf.dataset("InternalHosts") or conf.dataset("ExternalIgnoreList")
    if hosts_text is not None:
        where = hosts_set.location if hosts_set else "TrustedHosts"
        _lint_hosts(parse_trusted_hosts(hosts_text, path=where), where, out)


def _lint_key_table(keys: KeyTable, out: _Findings) -> None:
    for line, name in keys.bad_lines:
        out.add(
            Severity.ERROR,
            keys.path,
            line,
            f"KeyTable entry {name!r} does "
            "not have domain:selector:keyfile, so nothing is signed with it",
            f"write: {name} example.org:mail:/etc/opendkim/keys/example.org/"
            "mail.private",
            "opendkim.bad-key-entry",
        )


def _lint_signing_table(
    conf: OpendkimConf, table: SigningTable, out: _Findings
) -> None:
    for line, pattern in table.bad_lines:
        out.add(
            Severity.ERROR,
            table.path,
            line,
            f"SigningTable entry {pattern!r} names no key",
            f"write: {pattern} KEYNAME (a KeyTable name)",
            "opendkim.bad-signing-entry",
        )
    if table.refile:
        return
    setting = conf.get("SigningTable")
    for entry in table.entries:
        if "*" in entry.pattern and entry.pattern != "*" and setting:
            out.add(
                Severity.WARNING,
                table.path,
                entry.line,
                f"{entry.pattern!r} is "
                f"a wildcard, but SigningTable (line {setting.line}) is a plain "
                "file, where keys are looked up literally: this entry never "
                "matches and the mail is not signed",
                f"SigningTable refile:{table.path}",
                "opendkim.wildcard-needs-refile",
            )


def _lint_key_names(keys: KeyTable, table: SigningTable, out: _Findings) -> None:
    used = set()
    for entry in table.entries:
        if entry.key_name == "%" or keys.get(entry.key_name):
            used.add(entry.key_name.lower())
            continue
        out.add(
            Severity.ERROR,
            table.path,
            entry.line,
            f"key {entry.key_name!r} is "
            f"not in the KeyTable ({keys.path}): mail matching "
            f"{entry.pattern!r} is not signed",
            "use a name from the first column of the KeyTable",
            "opendkim.unknown-key-name",
        )
    for key in keys.entries:
        by_domain = "%" in used and "." in key.name  # % may pick it by domain
        if key.name.lower() not in used and not by_domain:
            out.add(
                Severity.INFO,
                keys.path,
                key.line,
                f"key {key.name!r} is not used by the SigningTable",
                "remove it or sign with it",
                "opendkim.unused-key",
            )


def _lint_hosts(hosts: list[HostEntry], path: str, out: _Findings) -> None:
    for host in hosts:
        if host.value.startswith("*."):
            out.add(
                Severity.WARNING,
                path,
                host.line,
                f"{host.value!r}: '*.' is not "
                "a wildcard here; the entry is a literal name that no host has",
                f"write .{host.value[2:]} to take every host of the domain",
                "opendkim.hosts-wildcard",
            )
        elif host.kind == "invalid":
            out.add(
                Severity.WARNING,
                path,
                host.line,
                f"{host.value!r} is not an address, network, host name or .domain",
                "correct or remove the entry",
                "opendkim.bad-host",
            )


# --- files a configuration names ------------------------------------------


@dataclass(frozen=True)
class FileReference:
    """A file that must exist on the machine for the configuration to work."""

    path: str
    named_in: str
    line: int
    purpose: str


def referenced_files(
    conf: OpendkimConf, key_table: KeyTable | None = None
) -> list[FileReference]:
    """The files opendkim.conf (and its KeyTable) name, to check on a host."""
    refs = []
    for name in (
        "KeyFile",
        "KeyTable",
        "SigningTable",
        "InternalHosts",
        "ExternalIgnoreList",
        "PeerList",
        "TrustAnchorFile",
    ):
        setting = conf.get(name)
        if setting is None or not setting.value:
            continue
        if name == "KeyFile" and conf.get("KeyTable"):
            continue  # ignored when a KeyTable is set: opendkim never opens it
        dataset = parse_dataset(setting.value, setting.line)
        if name in ("KeyFile", "TrustAnchorFile") or dataset.kind in ("file", "refile"):
            path = (
                setting.value
                if name in ("KeyFile", "TrustAnchorFile")
                else dataset.location
            )
            refs.append(FileReference(path, conf.path, setting.line, name))
    if key_table is not None and conf.get("KeyTable"):
        refs += [
            FileReference(k.key, key_table.path, k.line, f"private key {k.name}")
            for k in key_table.entries
            if k.is_path
        ]
    return refs


def check_files(host: Host, refs: list[FileReference]) -> list[Finding]:
    """A finding for each referenced file missing on the host."""
    findings = []
    for ref in refs:
        if not host.exists(ref.path):
            findings.append(
                Finding(
                    Severity.ERROR,
                    ref.named_in,
                    ref.line,
                    f"{ref.purpose} {ref.path} does not exist on {host.name}",
                    "create it (opendkim-genkey for keys) or correct the path",
                    "opendkim.missing-file",
                )
            )
    return findings


def read_opendkim(host: Host, path: str = "/etc/opendkim.conf") -> OpendkimConf:
    """Fetch and parse opendkim.conf from a lab machine."""
    return parse_opendkim_conf(host.read(path), path=path)


# --- editing ------------------------------------------------------------


def set_parameter(text: str, name: str, value: str) -> str:
    """Text with `name value`: the line in use changed (keeping its layout)."""
    conf = parse_opendkim_conf(text)
    setting = conf.get(name)
    if setting is None:
        ending = "\r\n" if "\r\n" in text else "\n"
        sep = "" if not text or text.endswith(("\n", "\r")) else ending
        return f"{text}{sep}{name}\t{value}{ending}"
    lines = text.splitlines(keepends=True)
    old = lines[setting.line - 1]
    match = re.match(r"(\s*\S+\s+)([^#]*?)(\s*(?:#.*)?)(\r?\n|\r)?$", old, flags=re.S)
    if match is None:  # a name with no value yet
        body = old.rstrip("\r\n")
        lines[setting.line - 1] = f"{body}\t{value}{old[len(body) :]}"
    else:
        lines[setting.line - 1] = f"{match[1]}{value}{match[3]}{match[4] or ''}"
    return "".join(lines)


def remove_parameter(text: str, name: str) -> str:
    """Text without any line that sets `name`."""
    drop = {
        s.line
        for s in parse_opendkim_conf(text).settings
        if s.name.lower() == name.lower()
    }
    lines = text.splitlines(keepends=True)
    return "".join(line for n, line in enumerate(lines, 1) if n not in drop)


def add_table_entry(text: str, key: str, value: str) -> str:
    """A KeyTable/SigningTable/TrustedHosts text with one more line at the end."""
    ending = "\r\n" if "\r\n" in text else "\n"
    sep = "" if not text or text.endswith(("\n", "\r")) else ending
    entry = f"{key} {value}".rstrip() if value else key
    return f"{text}{sep}{entry}{ending}"


def remove_table_entry(text: str, key: str) -> str:
    """A table text without the lines whose first field is `key`."""
    drop = {n for n, first, _ in _key_value_lines(text) if first == key}
    lines = text.splitlines(keepends=True)
    return "".join(line for n, line in enumerate(lines, 1) if n not in drop)
