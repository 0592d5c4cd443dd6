"""SpamAssassin local.cf: parse, edit and lint, as SpamAssassin 4.0 reads it.

The reading follows Mail::SpamAssassin::Conf::Parser: a `#` not preceded by
a backslash starts a comment (`\\#` is a literal `#`), keys are lower-cased
with `-` read as `_`, `ifplugin`/`if`/`else`/`endif` nest.  Rule regexes
are Perl regexes; `check_perl_regex` translates the common Perl forms to
Python `re` and says "unchecked" for what Python cannot judge.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from maillab.config.findings import Finding, Severity

if TYPE_CHECKING:
    from maillab.remote.host import Host

log = logging.getLogger(__name__)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


RULE_KINDS = ("header", "body", "rawbody", "full", "uri", "meta", "mimeheader")
CONDITIONALS = ("ifplugin", "if", "else", "endif")
ADDRESS_HEADERS = _words(
    "from to cc bcc reply-to sender return-path errors-to resent-from "
    "resent-to resent-cc tocc envelope-from"
)
# Settings that accept exactly these values (SpamAssassin 4.0's own checks).
BOOLEAN_SETTINGS = _words(
    "use_bayes bayes_auto_learn skip_rbl_checks use_bayes_rules "
    "bayes_auto_expire bayes_use_hapaxes allow_user_rules fold_headers "
    "normalize_charset bayes_learn_to_journal use_auto_welcomelist"
)
NUMERIC_SETTINGS = _words(
    "required_score bayes_auto_learn_threshold_nonspam "
    "bayes_auto_learn_threshold_spam rbl_timeout time_limit "
    "bayes_min_ham_num bayes_min_spam_num bayes_expiry_max_db_size "
    "report_wrap_width body_part_scan_size rawbody_part_scan_size"
)
# The value a setting has when local.cf does not set it (SpamAssassin 4.0).
DEFAULTS = {
    "bayes_auto_learn_threshold_nonspam": "0.1",
    "bayes_auto_learn_threshold_spam": "12.0",
    "required_score": "5",
}
MAX_RULE_NAME = 40  # over this, spamassassin --lint warns

# The configuration commands SpamAssassin 4.0.1 knows with Debian 12's
# default plugins loaded (dumped from the parser's lookup table on the box).
_DEBIAN_COMMANDS = _words(
    """
    add_header adsp_override all_spam_to allow_user_rules
    always_trust_envelope_sender askdns bayes_auto_expire bayes_auto_learn
    bayes_auto_learn_on_error bayes_auto_learn_threshold_nonspam
    bayes_auto_learn_threshold_spam bayes_expiry_max_db_size bayes_file_mode
    bayes_ignore_from bayes_ignore_header bayes_ignore_to bayes_journal_max_size
    bayes_learn_during_report bayes_learn_to_journal bayes_max_token_length
    bayes_min_ham_num bayes_min_spam_num bayes_path bayes_seen_ttl bayes_sql_dsn
    bayes_sql_override_username bayes_sql_password bayes_sql_username
    bayes_sql_username_authorized bayes_stopword_languages bayes_store_module
    bayes_token_sources bayes_token_ttl bayes_use_hapaxes blacklist_from
    blacklist_to blocklist_from blocklist_to body body_part_scan_size
    check_rbl_timeout clear_dns_query_restriction clear_dns_servers
    clear_headers clear_internal_networks clear_msa_networks
    clear_originating_ip_headers clear_trusted_networks clear_util_rb
    country_db_path country_db_type def_welcomelist_auth def_welcomelist_from_dkim
    def_welcomelist_from_rcvd def_whitelist_auth def_whitelist_from_dkim
    def_whitelist_from_rcvd describe descriptions dkim_minimum_key_bits
    dkim_timeout dmarc_save_reports dns_available dns_block_rule dns_block_time
    dns_local_ports_avoid dns_local_ports_none dns_local_ports_permit dns_options
    dns_query_restriction dns_server dns_test_interval enable_compat
    enlist_addrlist envelope_sender_header fold_headers freemail_add_describe_email
    freemail_domains freemail_import_def_welcomelist_auth
    freemail_import_def_whitelist_auth freemail_import_welcomelist_auth
    freemail_import_whitelist_auth freemail_max_body_emails
    freemail_max_body_freemails freemail_skip_bulk_envfrom
    freemail_skip_when_over_max freemail_welcomelist freemail_whitelist full
    geodb_module geodb_options geodb_search_path hashbl_acc hashbl_email_blocklist
    hashbl_email_domain_alias hashbl_email_regex hashbl_email_welcomelist
    hashbl_ignore header ignore_always_matching_regexps internal_networks
    loadplugin lock_method mbox_format_from_regex meta mimeheader more_spam_to
    msa_networks normalize_charset ok_locales originating_ip_headers
    parse_dkim_uris priority pyzor_count_min pyzor_fork pyzor_max pyzor_options
    pyzor_path pyzor_perl pyzor_server_file pyzor_timeout pyzor_welcomelist_factor
    pyzor_welcomelist_min pyzor_whitelist_factor pyzor_whitelist_min
    razor_config razor_fork razor_timeout rawbody rawbody_part_scan_size
    rbl_headers rbl_timeout redirector_pattern remove_header replace_end
    replace_inter replace_post replace_pre replace_rules replace_start
    replace_tag report report_charset report_contact report_hostname report_safe
    report_safe_copy_headers report_template report_wrap_width require_version
    required_hits required_score reuse rewrite_header score skip_rbl_checks
    spamcop_from_address spamcop_max_report_size spamcop_relayed_message
    spamcop_to_address subjprefix test tflags time_limit trusted_networks
    tryplugin unblacklist_from unsafe_report_template unwelcomelist_auth
    unwelcomelist_from unwelcomelist_from_dkim unwelcomelist_from_rcvd
    unwhitelist_auth unwhitelist_from unwhitelist_from_dkim unwhitelist_from_rcvd
    uri uri_country_db_isp_path uri_country_db_path uri_detail uri_host_lists
    uri_nonwelcomelist_subject uri_welcomelist_subject uri_whitelist_subject
    uridnsbl uridnsbl_max_domains uridnsbl_skip_domain uridnsbl_timeout
    uridnssub uridnssub_skip_domain urirhsbl urirhssub use_bayes use_bayes_rules
    use_learner use_pyzor use_razor2 user_scores_dsn user_scores_fallback_to_global
    user_scores_ldap_password user_scores_ldap_username
    user_scores_sql_custom_query user_scores_sql_password user_scores_sql_username
    util_rb_2tld util_rb_3tld util_rb_tld version_tag welcomelist_allows_relays
    welcomelist_auth welcomelist_bounce_relays welcomelist_from
    welcomelist_from_dkim welcomelist_from_rcvd welcomelist_subject
    welcomelist_to whitelist_allows_relays whitelist_auth whitelist_bounce_relays
    whitelist_from whitelist_from_dkim whitelist_from_rcvd whitelist_subject
    whitelist_to
    """
)
# Settings of plugins that Debian 12 does not load (from each plugin's source).
_PLUGIN_SETTINGS_TEXT = """
ASN: asn_lookup asn_lookup_ipv6 asn_prefer_geodb asn_prefix asn_use_dns
    asn_use_geodb clear_asn_lookups
AWL: auto_welcomelist_db_modules auto_welcomelist_distinguish_signed
    auto_welcomelist_factor auto_welcomelist_factory auto_welcomelist_file_mode
    auto_welcomelist_ipv4_mask_len auto_welcomelist_ipv6_mask_len
    auto_welcomelist_path use_auto_welcomelist user_awl_dsn
    user_awl_sql_override_username user_awl_sql_password user_awl_sql_table
    user_awl_sql_username
AuthRes: authres_ignored_authserv authres_networks authres_trusted_authserv
DCC: dcc_body_max dcc_dccifd_path dcc_fuz1_max dcc_fuz2_max dcc_home
    dcc_learn_score dcc_options dcc_path dcc_rep_percent dcc_timeout
    dccifd_options use_dcc use_dcc_rep
DecodeShortURLs: clear_url_shortener max_short_url_redirections max_short_urls
    url_shortener url_shortener_cache_autoclean url_shortener_cache_dsn
    url_shortener_cache_password url_shortener_cache_ttl url_shortener_cache_type
    url_shortener_cache_username url_shortener_get url_shortener_loginfo
    url_shortener_timeout url_shortener_user_agent
ExtractText: extracttext_maxparts extracttext_timeout
FromNameSpoof: fns_add_addrlist fns_check fns_extrachars fns_ignore_dkim
    fns_ignore_headers fns_remove_addrlist
OLEVBMacro: olemacro_download_marker olemacro_extended_scan olemacro_exts
    olemacro_macro_exts olemacro_max_file olemacro_num_mime olemacro_num_zip
    olemacro_prefer_contentdisposition olemacro_skip_exts olemacro_skip_ctypes
    olemacro_zip_depth olemacro_zips
PhishTag: trigger_config trigger_ratio trigger_target
Phishing: phishing_openphish_feed phishing_phishstats_feed
    phishing_phishstats_minscore phishing_phishtank_feed phishing_uri_noparam
ResourceLimits: resource_limit_cpu resource_limit_mem
Reuse: run_reuse_tests_only
Shortcircuit: shortcircuit shortcircuit_ham_score shortcircuit_max_spam_score
    shortcircuit_min_ham_score shortcircuit_spam_score
TextCat: inactive_languages ok_languages textcat_acceptable_score
    textcat_max_languages textcat_max_ngrams textcat_optimal_ngrams
TxRep: txrep_autolearn txrep_dilution_factor txrep_expiry_days txrep_factor
    txrep_factory txrep_ipv4_mask_len txrep_ipv6_mask_len txrep_learn_bonus
    txrep_learn_penalty txrep_report_details txrep_spf txrep_track_messages
    txrep_user2global_ratio txrep_weight_domain txrep_weight_email
    txrep_weight_email_ip txrep_weight_helo txrep_weight_ip
    txrep_welcomelist_out use_txrep
URILocalBL: uri_block_cc uri_block_cidr uri_block_cont uri_block_exclude
    uri_block_isp
"""
DEBIAN_PLUGINS = _words(
    """
    AskDNS AutoLearnThreshold Bayes BodyEval Check DKIM DMARC DNSEval FreeMail
    HTMLEval HTTPSMismatch HashBL HeaderEval ImageInfo MIMEEval MIMEHeader Pyzor
    Razor2 RelayEval ReplaceTags SPF SpamCop URIDNSBL URIDetail URIEval VBounce
    WLBLEval WelcomeListSubject
    """
)
# Settings that moved into a plugin: an unknown one is only a warning for lint.
MIGRATED_SETTINGS = frozenset({"ok_languages"})
PLUGIN_PREFIX = "Mail::SpamAssassin::Plugin::"


def _plugin_settings(text: str) -> dict[str, str]:
    owner: dict[str, str] = {}
    for entry in re.split(r"\n(?=\S)", text.strip()):
        plugin, _, names = entry.partition(":")
        owner.update(dict.fromkeys(names.split(), plugin))
    return owner


PLUGIN_OF_SETTING = _plugin_settings(_PLUGIN_SETTINGS_TEXT)

# Agreement with `spamassassin --lint`: these codes are mistakes the real
# lint does not see (the rule loads, it just never does what was meant).
BEYOND_SA_LINT = frozenset(
    {
        "spamassassin.address-anchor",
        "spamassassin.unchecked-regex",
        "spamassassin.score-without-rule",
        "spamassassin.meta-undefined",
        "spamassassin.same-as-default",
        "spamassassin.not-utf8",
        "spamassassin.comment-in-regex",
        "spamassassin.if-not-evaluated",
        "spamassassin.skipped-block",
    }
)


@dataclass(frozen=True)
class Directive:
    """One configuration line as SpamAssassin reads it."""

    line: int
    key: str  # lower case, `-` read as `_`
    value: str  # comment removed, `\\#` read as `#`
    text: str  # the line as written, without its line break
    active: bool = True  # False inside an ifplugin/if that is not taken
    condition: str | None = None  # the innermost enclosing condition


@dataclass(frozen=True)
class Rule:
    """A header/body/rawbody/full/uri/meta/mimeheader test."""

    name: str
    kind: str
    line: int
    definition: str  # everything after the name
    active: bool = True
    header: str | None = None  # header rules: "From", "From:addr", "ALL"...
    negated: bool = False  # header rules with !~
    regex: str | None = None  # the Perl regex, delimiters removed
    flags: str = ""
    if_unset: str | None = None
    is_eval: bool = False
    problem: str | None = None  # why SpamAssassin would refuse it


@dataclass
class LocalCf:
    """A parsed local.cf."""

    path: str
    text: str
    directives: list[Directive] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    scores: dict[str, tuple[int, str]] = field(default_factory=dict)  # line, value
    descriptions: dict[str, tuple[int, str]] = field(default_factory=dict)
    decode_error: str | None = None
    unclosed: list[Directive] = field(default_factory=list)
    stray: list[Directive] = field(default_factory=list)  # else/endif with no if

    def option(self, key: str) -> str | None:
        """The value SpamAssassin keeps for a setting (the last active line)."""
        key = normalize_key(key)
        values = [d.value for d in self.directives if d.key == key and d.active]
        return values[-1] if values else None

    def options(self) -> dict[str, str]:
        """Every active plain setting (not rules, scores or conditionals)."""
        skip = {*RULE_KINDS, *CONDITIONALS, "score", "describe", "tflags"}
        return {
            d.key: d.value for d in self.directives if d.active and d.key not in skip
        }


# --- reading ------------------------------------------------------------


def decode(data: str | bytes) -> tuple[str, str | None]:
    """Text from str or bytes, and a message when the bytes were not UTF-8."""
    if isinstance(data, str):
        return data, None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
        return data.decode("utf-8", "replace"), f"not valid UTF-8 at {where}"


def normalize_key(key: str) -> str:
    return key.lower().replace("-", "_")


def strip_comment(line: str) -> str:
    """The line without its comment, as SpamAssassin's parser cuts it."""
    if "#" in line:
        line = re.sub(r"(?<!\\)#.*", "", line, flags=re.S).replace("\\#", "#")
    return line.strip()


def parse_local_cf(data: str | bytes, *, path: str = "local.cf") -> LocalCf:
    """Parse local.cf text; never raises, every line can be read."""
    text, decode_error = decode(data)
    conf = LocalCf(path=path, text=text, decode_error=decode_error)
    stack: list[tuple[Directive, bool]] = []  # (opening line, was active before)
    active = True
    for number, raw in enumerate(text.splitlines(), start=1):
        content = strip_comment(raw)
        if not content:
            continue
        key, value = _split_key(content)
        cond = stack[-1][0].value if stack else None
        directive = Directive(number, key, value, raw, active, cond)
        conf.directives.append(directive)
        active = _follow_conditional(conf, directive, stack, active)
        if directive.active and key not in CONDITIONALS:
            _record(conf, directive)
    conf.unclosed = [opening for opening, _ in stack]
    return conf


def _split_key(content: str) -> tuple[str, str]:
    parts = re.split(r"\s+", content, maxsplit=1)
    value = parts[1] if len(parts) > 1 else ""
    return normalize_key(parts[0]), value


def _follow_conditional(
    conf: LocalCf,
    directive: Directive,
    stack: list[tuple[Directive, bool]],
    active: bool,
) -> bool:
    """The active state after a conditional line (unchanged for other lines)."""
    if directive.key in ("ifplugin", "if"):
        if not directive.value:
            conf.stray.append(directive)  # SpamAssassin skips it: no block opens
            return active
        stack.append((directive, active))
        return active and is_condition_true(directive, conf)
    if directive.key == "else":
        if not stack:
            conf.stray.append(directive)
            return active
        opening, before = stack[-1]
        return before and not is_condition_true(opening, conf)
    if directive.key == "endif":
        if not stack:
            conf.stray.append(directive)
            return active
        return stack.pop()[1]
    return active


def loaded_plugins(conf: LocalCf, base: Iterable[str] = DEBIAN_PLUGINS) -> set[str]:
    """Short plugin names loaded: Debian's defaults plus local.cf's loadplugin."""
    names = set(base)
    for d in conf.directives:
        if d.key in ("loadplugin", "tryplugin") and d.active and d.value:
            names.add(d.value.split()[0].removeprefix(PLUGIN_PREFIX))
    return names


def is_condition_true(directive: Directive, conf: LocalCf) -> bool:
    """Whether an ifplugin/if condition holds on a Debian 12 box.

    Only `ifplugin X`, `if plugin(X)`, `if can(...)` and `if version ...` are
    judged; other `if` expressions count as true.
    """
    value = directive.value.strip()
    plugins = loaded_plugins(conf)
    if directive.key == "ifplugin":
        return value.removeprefix(PLUGIN_PREFIX) in plugins
    match = re.fullmatch(r"\(?\s*(!?)\s*plugin\s*\(\s*([\w:]+)\s*\)\s*\)?", value)
    if match:
        present = match[2].removeprefix(PLUGIN_PREFIX) in plugins
        return present != bool(match[1])
    match = re.fullmatch(r"\(?\s*version\s*([<>=!]=?)\s*([\d.]+)\s*\)?", value)
    if match:
        return _compare_version(match[1], match[2])
    return True


def _compare_version(operator: str, wanted: str) -> bool:
    try:
        have, want = 4.000001, float(wanted)
    except ValueError:
        return True
    table = {
        ">": have > want,
        ">=": have >= want,
        "<": have < want,
        "<=": have <= want,
        "==": have == want,
        "!=": have != want,
    }
    return table.get(operator, True)


def _record(conf: LocalCf, directive: Directive) -> None:
    key, value = directive.key, directive.value
    parts = re.split(r"\s+", value, maxsplit=1)
    name, rest = parts[0], parts[1] if len(parts) > 1 else ""
    if key in RULE_KINDS and name:
        conf.rules[name] = parse_rule(key, name, rest, directive)
    elif key == "score" and name:
        conf.scores[name] = (directive.line, rest)
    elif key in ("describe", "descriptions") and name:
        conf.descriptions[name] = (directive.line, rest)


# --- rules and regexes --------------------------------------------------


_DELIMITED = re.compile(r"(?s)(m?)(\S)(.*)")
_PAIRS = {"{": "}", "(": ")", "<": ">", "[": "]"}


def split_delimited(spec: str) -> tuple[str, str] | None:
    """(regex, flags) of `/re/flags` or `m{re}flags`; None when not delimited."""
    match = _DELIMITED.fullmatch(spec.strip())
    if not match:
        return None
    prefix, opener, rest = match.groups()
    if opener != "/" and not prefix:
        return None
    if opener.isalnum() or opener == "\\":
        return None
    closer = _PAIRS.get(opener, opener)
    end = re.fullmatch(r"(?s)(.*)" + re.escape(closer) + r"([a-zA-Z]*)", rest)
    if not end:
        return None
    return end[1], end[2]


def parse_rule(kind: str, name: str, rest: str, directive: Directive) -> Rule:
    """One rule definition; `problem` says why SpamAssassin would refuse it."""
    base = Rule(name, kind, directive.line, rest, directive.active)
    if kind == "meta":
        problem = None if rest.strip() else "a meta rule needs an expression"
        return _replace(base, problem=problem)
    if re.match(r"eval:\w+\(", rest):
        return _replace(base, is_eval=True)
    if kind in ("header", "mimeheader"):
        return _parse_header_rule(base, rest)
    delimited = split_delimited(rest)
    if delimited is None:
        return _replace(base, problem="the regex needs delimiters: /.../")
    return _replace(base, regex=delimited[0], flags=delimited[1])


def _parse_header_rule(base: Rule, rest: str) -> Rule:
    exists = re.fullmatch(r"exists:(\S+)", rest)
    if exists:
        return _replace(base, header=exists[1])
    match = re.fullmatch(
        r"(\S+)\s*(=~|!~)\s*(.*?)(?:\s*\[if-unset:\s*(.*)\])?", rest, flags=re.S
    )
    delimited = split_delimited(match[3]) if match else None
    if match is None or delimited is None:
        return _replace(base, problem="invalid head test")
    return _replace(
        base,
        header=match[1],
        negated=match[2] == "!~",
        regex=delimited[0],
        flags=delimited[1],
        if_unset=match[4],
    )


def _replace(rule: Rule, **changes: object) -> Rule:
    from dataclasses import replace

    return replace(rule, **changes)  # type: ignore[arg-type]


RegexVerdict = Literal["ok", "error", "unchecked"]
PERL_FLAGS = set("imsxnpadlu")
_PY_FLAGS = set("imsx")
# Python errors that Perl also refuses (the same pattern fails in both).
_SHARED_ERRORS = (
    "missing ), unterminated subpattern",
    "unbalanced parenthesis",
    "unterminated character set",
    "nothing to repeat",
    "multiple repeat",
    "min repeat greater than max repeat",
    "bad character range",
    "invalid group reference",
)
_UNCHECKED_ESCAPES = set("pPXKGQEgkNoculLU")
_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "blank": r" \t",
    "word": r"\w",
    "xdigit": "0-9A-Fa-f",
    "punct": r"!-/:-@\[-`{-~",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_SIMPLE_ESCAPES = {
    "z": r"\Z",
    "Z": r"(?=\n?\Z)",
    "h": r"[ \t]",
    "H": r"[^ \t]",
    "v": r"[\n\x0b\f\r]",
    "V": r"[^\n\x0b\f\r]",
    "R": r"(?:\r\n|[\n\x0b\f\r])",
    "e": r"\x1b",
}
_PYTHON_ESCAPES = set("abBdDfnrsStwWAZ0123456789x")


class _Unchecked(Exception):
    """A Perl construct this translator cannot check in Python."""


class _PerlError(Exception):
    """A construct Perl itself refuses."""


def check_perl_regex(regex: str, flags: str = "") -> tuple[RegexVerdict, str]:
    """Judge a Perl regex: ("ok"|"error"|"unchecked", explanation)."""
    bad = sorted(set(flags) - PERL_FLAGS)
    if bad:
        return "error", f"Sequence (?{bad[0]}...) not recognized"
    try:
        python = translate_perl_regex(regex)
    except _Unchecked as exc:
        return "unchecked", str(exc)
    except _PerlError as exc:
        return "error", str(exc)
    prefix = "".join(sorted(set(flags) & _PY_FLAGS))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(f"(?{prefix}){python}" if prefix else python)
    except re.error as exc:
        message = exc.msg
        if message.startswith(_SHARED_ERRORS):
            return "error", message
        return "unchecked", f"Python cannot read it ({message})"
    except (RecursionError, OverflowError, ValueError, MemoryError) as exc:
        return "unchecked", f"too complex to check ({type(exc).__name__})"
    return "ok", ""


def translate_perl_regex(regex: str) -> str:
    """The Python form of a Perl regex; raises _Unchecked where none exists."""
    out: list[str] = []
    i, in_class, n = 0, False, len(regex)
    while i < n:
        char = regex[i]
        if char == "\\":
            piece, i = _translate_escape(regex, i, in_class)
        elif char == "[" and not in_class:
            in_class = True
            piece, i = _class_start(regex, i)
        elif char == "[" and regex.startswith("[:", i):
            piece, i = _posix_class(regex, i)
        elif char == "]" and in_class:
            in_class, piece, i = False, "]", i + 1
        elif char == "(" and not in_class and regex.startswith("(?", i):
            piece, i = _translate_group(regex, i, first=not out)
        elif char == "(" and not in_class and regex.startswith("(*", i):
            raise _Unchecked("Perl backtracking verbs (*...) have no Python form")
        else:
            piece, i = char, i + 1
        out.append(piece)
    return "".join(out)


def _class_start(regex: str, i: int) -> tuple[str, int]:
    """`[`, `[^`, and a `]` right after them, which is a literal in both."""
    j = i + 1
    if regex.startswith("^", j):
        j += 1
    if regex.startswith("]", j):
        return regex[i:j] + "\\]", j + 1
    return regex[i:j], j


def _posix_class(regex: str, i: int) -> tuple[str, int]:
    match = re.compile(r"\[:(\^?)(\w+):\]").match(regex, i)
    if not match:
        return "\\[", i + 1
    if match[1] or match[2] not in _POSIX_CLASSES:
        raise _Unchecked(f"POSIX class {match[0]} has no Python form")
    return _POSIX_CLASSES[match[2]], match.end()


def _translate_escape(regex: str, i: int, in_class: bool) -> tuple[str, int]:
    if i + 1 >= len(regex):
        return "\\\\", i + 1  # Perl reads a trailing backslash as a literal one
    letter = regex[i + 1]
    named = re.compile(r"\\k(?:<(\w+)>|'(\w+)'|\{(\w+)\})").match(regex, i)
    if named:
        return f"(?P={named[1] or named[2] or named[3]})", named.end()
    if letter in _UNCHECKED_ESCAPES:
        raise _Unchecked(f"\\{letter} has no Python form")
    if letter == "x" and regex.startswith("{", i + 2):
        return _hex_escape(regex, i)
    if letter in _SIMPLE_ESCAPES:
        if in_class and letter in "HVR":
            raise _Unchecked(f"\\{letter} inside [...] has no Python form")
        piece = _SIMPLE_ESCAPES[letter]
        return (piece.strip("[]") if in_class else piece), i + 2
    if letter.isalpha() and letter not in _PYTHON_ESCAPES:
        return re.escape(letter), i + 2  # Perl passes unknown escapes through
    return regex[i : i + 2], i + 2


def _hex_escape(regex: str, i: int) -> tuple[str, int]:
    end = regex.find("}", i)
    digits = regex[i + 3 : end].strip() if end > 0 else ""
    if not re.fullmatch(r"[0-9A-Fa-f]{1,8}", digits) or int(digits, 16) > 0x10FFFF:
        raise _Unchecked(f"cannot read {regex[i : end + 1]!r}")
    return f"\\U{int(digits, 16):08x}", end + 1


def _translate_group(regex: str, i: int, *, first: bool) -> tuple[str, int]:
    rest = regex[i + 2 :]
    if rest.startswith(("<=", "<!", ":", "=", "!", ">", "#")):
        return "(?", i + 2
    named = re.match(r"<(\w+)>|'(\w+)'|P<(\w+)>", rest)
    if named:
        return f"(?P<{named[1] or named[2] or named[3]}>", i + 2 + named.end()
    inline = re.match(r"\^?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])", rest)
    if inline:
        return _inline_flags(inline, i, first=first)
    raise _Unchecked(f"(?{rest[:2]}... has no Python form")


def _inline_flags(match: re.Match[str], i: int, *, first: bool) -> tuple[str, int]:
    on, off, closer = match[1], match[2] or "", match[3]
    if match[0].startswith("^"):
        raise _Unchecked("(?^...) has no Python form")
    bad = sorted(set(on + off) - PERL_FLAGS)
    if bad:
        raise _PerlError(f"Sequence (?{bad[0]}...) not recognized")
    on_py = "".join(c for c in on if c in _PY_FLAGS)
    off_py = "".join(c for c in off if c in _PY_FLAGS)
    end = i + 2 + match.end()
    if closer == ")":
        if off_py or not first:
            raise _Unchecked("flags in the middle of a regex have no Python form")
        return (f"(?{on_py})" if on_py else ""), end
    sign = f"-{off_py}" if off_py else ""
    return (f"(?{on_py}{sign}:" if on_py or sign else "(?:"), end


# --- linting ------------------------------------------------------------


def lint_local_cf(
    data: str | bytes | LocalCf,
    *,
    path: str = "local.cf",
    plugins: Iterable[str] = DEBIAN_PLUGINS,
) -> list[Finding]:
    """Findings for a local.cf, as `spamassassin --lint` and beyond; never raises.

    `plugins` are the short names of the plugins the .pre files load
    (Debian 12's by default); `loadplugin` lines in the file add to them.
    """
    conf = data if isinstance(data, LocalCf) else parse_local_cf(data, path=path)
    lint = _Lint(conf, loaded_plugins(conf, plugins))
    try:
        lint.run()
    except Exception:  # a linter never raises: report the bug as a finding
        log.exception("lint_local_cf failed on %s", conf.path)
        lint.add(
            Severity.ERROR,
            None,
            "the linter failed on this file",
            "report a bug",
            "spamassassin.lint-failed",
        )
    return lint.findings


@dataclass
class _Lint:
    conf: LocalCf
    plugins: set[str]
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, severity: Severity, line: int | None, message: str, fix: str, code: str
    ) -> None:
        self.findings.append(
            Finding(severity, self.conf.path, line, message, fix, code)
        )

    def run(self) -> None:
        if self.conf.decode_error:
            self.add(
                Severity.WARNING,
                None,
                f"the file is {self.conf.decode_error}",
                "save it as UTF-8",
                "spamassassin.not-utf8",
            )
        self.check_conditionals()
        for directive in self.conf.directives:
            if directive.active and directive.key not in CONDITIONALS:
                self.check_directive(directive)
        for rule in self.conf.rules.values():
            self.check_rule(rule)
        self.check_scores()
        self.findings.sort(key=lambda f: f.line or 0)

    def check_conditionals(self) -> None:
        for d in self.conf.stray:
            opens = d.key in ("if", "ifplugin")
            self.add(
                Severity.ERROR,
                d.line,
                f"'{d.key}' needs a condition"
                if opens
                else f"'{d.key}' has no 'if' or 'ifplugin' before it",
                "give the plugin name" if opens else f"remove this '{d.key}'",
                "spamassassin.conditional",
            )
        for d in self.conf.unclosed:
            self.add(
                Severity.ERROR,
                d.line,
                f"'{d.key} {d.value}' is never closed",
                "add 'endif' after the block",
                "spamassassin.conditional",
            )
        for d in self.conf.directives:
            if (
                d.key in ("ifplugin", "if")
                and d.value
                and d.active
                and not is_condition_true(d, self.conf)
            ):
                self.add(
                    Severity.INFO,
                    d.line,
                    f"the block '{d.key} {d.value}' is "
                    "skipped: that plugin is not loaded",
                    "load the plugin in a .pre file if the block matters",
                    "spamassassin.skipped-block",
                )

    def check_directive(self, d: Directive) -> None:
        key = d.key
        # Shortcoming: `include` files are not read, and a `lang xx` line is
        # kept as one "lang" directive (SpamAssassin applies it only when the
        # locale matches), so neither is checked further.
        known = key in _DEBIAN_COMMANDS or key in ("lang", "include", "file")
        owner = PLUGIN_OF_SETTING.get(key)
        if owner and owner in self.plugins:
            known = True
        if not known:
            self.unknown_setting(d, owner)
        elif (
            key in BOOLEAN_SETTINGS
            or key in NUMERIC_SETTINGS
            or key
            in ("report_safe", "trusted_networks", "internal_networks", "msa_networks")
        ):
            self.check_value(d)

    def unknown_setting(self, d: Directive, owner: str | None) -> None:
        if owner:
            severity = Severity.WARNING if key_migrated(d.key) else Severity.ERROR
            self.add(
                severity,
                d.line,
                f"{d.key} belongs to the {owner} plugin, "
                "which is not loaded, so SpamAssassin ignores this line",
                f"load it (loadplugin {PLUGIN_PREFIX}{owner} in a .pre file) "
                f"or wrap the line in 'ifplugin {PLUGIN_PREFIX}{owner}' ... "
                "'endif'",
                "spamassassin.plugin-not-loaded",
            )
            return
        close = difflib.get_close_matches(d.key, _DEBIAN_COMMANDS, n=1)
        hint = f"did you mean {close[0]}?" if close else "remove the line"
        self.add(
            Severity.ERROR,
            d.line,
            f"unknown setting {d.key!r}: SpamAssassin cannot parse this line",
            hint,
            "spamassassin.unknown-option",
        )

    def check_value(self, d: Directive) -> None:
        problem = value_problem(d.key, d.value)
        if problem:
            self.add(
                Severity.ERROR,
                d.line,
                f"invalid {d.key} value {d.value!r}: {problem}",
                f"give {d.key} {problem}",
                "spamassassin.invalid-value",
            )
        elif d.key in ("trusted_networks", "internal_networks", "msa_networks"):
            self.check_networks(d)
        elif DEFAULTS.get(d.key) is not None and _same_number(DEFAULTS[d.key], d.value):
            self.add(
                Severity.INFO,
                d.line,
                f"{d.key} {d.value} is already the default",
                "the line can go",
                "spamassassin.same-as-default",
            )

    def check_networks(self, d: Directive) -> None:
        for address in already_included(d.value.split()):
            self.add(
                Severity.WARNING,
                d.line,
                f"{address} is already included "
                "(SpamAssassin always trusts 127.0.0.0/8 and ::1, and each "
                "network counts once)",
                f"remove {address} from {d.key}",
                "spamassassin.network-already-included",
            )

    def check_rule(self, rule: Rule) -> None:
        if not rule.active:
            return
        if len(rule.name) > MAX_RULE_NAME:
            self.add(
                Severity.WARNING,
                rule.line,
                f"rule name {rule.name} is over {MAX_RULE_NAME} characters",
                "shorten it (22 at most is recommended)",
                "spamassassin.rule-name-length",
            )
        if rule.problem:
            self.add(
                Severity.ERROR,
                rule.line,
                f"{rule.kind} rule {rule.name}: {rule.problem}{self.hash_hint(rule)}",
                _rule_fix(rule.kind),
                "spamassassin.invalid-rule",
            )
        elif rule.regex is not None:
            self.check_regex(rule)
        if rule.kind == "meta" and not rule.problem:
            self.check_meta(rule)

    def check_regex(self, rule: Rule) -> None:
        assert rule.regex is not None
        verdict, why = check_perl_regex(rule.regex, rule.flags)
        if verdict == "error":
            self.add(
                Severity.ERROR,
                rule.line,
                f"invalid regexp for {rule.name}: {why}{self.hash_hint(rule)}",
                "correct the regex; SpamAssassin drops this rule",
                "spamassassin.invalid-regex",
            )
        elif verdict == "unchecked":
            self.add(
                Severity.INFO,
                rule.line,
                f"the regex of {rule.name} cannot be checked here: {why}",
                "run spamassassin --lint on the box",
                "spamassassin.unchecked-regex",
            )
        if rule.kind == "header" and has_address_anchor(rule):
            self.address_anchor(rule)

    def address_anchor(self, rule: Rule) -> None:
        header = (rule.header or "").split(":")[0]
        self.add(
            Severity.WARNING,
            rule.line,
            f"{rule.name}: '{header}' holds the "
            f"whole header, such as 'Jean <jean@monentreprise.local>', so "
            f"'$' right after the domain never matches once there is a "
            f"display name (the header ends with '>')",
            f"match the address only: {header}:addr =~ "
            f"/{rule.regex}/{_with_i(rule.flags)}",
            "spamassassin.address-anchor",
        )

    def hash_hint(self, rule: Rule) -> str:
        directive = next(d for d in self.conf.directives if d.line == rule.line)
        if re.search(r"(?<!\\)#", directive.text):
            return " (a '#' starts a comment in local.cf: write '\\#')"
        return ""

    def check_meta(self, rule: Rule) -> None:
        names = set(re.findall(r"\b[A-Za-z_]\w*\b", rule.definition))
        for name in sorted(names - set(self.conf.rules)):
            if not name.startswith("__") and not name.isupper():
                continue
            self.add(
                Severity.INFO,
                rule.line,
                f"meta {rule.name} uses {name}, which this file does not define",
                "fine if it is a stock rule; otherwise define it",
                "spamassassin.meta-undefined",
            )

    def check_scores(self) -> None:
        for name, (line, value) in self.conf.scores.items():
            if not is_score(value):
                self.add(
                    Severity.ERROR,
                    line,
                    f"invalid score for {name}: {value!r}",
                    "give one number or four numbers",
                    "spamassassin.invalid-score",
                )
            elif name not in self.conf.rules:
                self.add(
                    Severity.INFO,
                    line,
                    f"score for {name}, which this file does not define",
                    "fine if it is a stock rule",
                    "spamassassin.score-without-rule",
                )


def key_migrated(key: str) -> bool:
    return key in MIGRATED_SETTINGS


def _rule_fix(kind: str) -> str:
    if kind in ("header", "mimeheader"):
        return f"write: {kind} NAME Header =~ /regex/flags"
    if kind == "meta":
        return "write: meta NAME RULE_A && !RULE_B"
    return f"write: {kind} NAME /regex/flags"


def _with_i(flags: str) -> str:
    return flags if "i" in flags else flags + "i"


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


_NUMBER = re.compile(r"-?\d+(?:\.\d*)?")  # ".5" and "1e3" are refused


def is_score(value: str) -> bool:
    """One or four numbers, each optionally in parentheses."""
    parts = value.split()
    pattern = re.compile(rf"\(?{_NUMBER.pattern}\)?")
    return len(parts) in (1, 4) and all(pattern.fullmatch(p) for p in parts)


def value_problem(key: str, value: str) -> str | None:
    """What a setting's value should be, when SpamAssassin would refuse it."""
    if key in BOOLEAN_SETTINGS and value.lower() not in ("0", "1", "yes", "no"):
        return "0 or 1"
    if key in NUMERIC_SETTINGS and not _NUMBER.fullmatch(value):
        return "a number"
    if key == "report_safe" and value not in ("0", "1", "2"):
        return "0, 1 or 2"
    return None


def already_included(entries: list[str]) -> list[str]:
    """The entries of a trusted_networks line SpamAssassin says it already has."""
    seen = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    repeated: list[str] = []
    for entry in entries:
        try:
            net = ipaddress.ip_network(entry.lstrip("!"), strict=False)
        except ValueError:
            continue
        if any(net.version == s.version and net.subnet_of(s) for s in seen):  # type: ignore[arg-type]
            repeated.append(str(net) if "/" in entry else f"{net}")
        else:
            seen.append(net)
    return repeated


def has_address_anchor(rule: Rule) -> bool:
    """A `$` right after an address or domain on a whole address header."""
    header = (rule.header or "").lower()
    if ":" in header or header not in ADDRESS_HEADERS or rule.negated:
        return False
    regex = rule.regex or ""
    return bool(re.search(r"(?:[\w)\]]|\\.)\$$", regex)) and not regex.endswith(">$")


# --- editing ------------------------------------------------------------


def set_option(text: str, key: str, value: str) -> str:
    """Text with `key value`: the last active line changed, or a line added."""
    conf = parse_local_cf(text)
    lines = text.splitlines(keepends=True)
    targets = [d for d in conf.directives if d.key == normalize_key(key) and d.active]
    if not targets:
        return _append(text, f"{key} {value}")
    d = targets[-1]
    old = lines[d.line - 1]
    ending = old[len(old.rstrip("\r\n")) :]
    indent = old[: len(old) - len(old.lstrip())]
    lines[d.line - 1] = f"{indent}{d.text.split()[0]} {value}{_comment_of(old)}{ending}"
    return "".join(lines)


def _comment_of(line: str) -> str:
    body = line.rstrip("\r\n")
    match = re.search(r"\s*(?<!\\)#.*", body)
    return match[0] if match else ""


def _append(text: str, line: str) -> str:
    ending = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += ending
    return text + line + ending


def remove_option(text: str, key: str) -> str:
    """Text without the lines that set `key` (rules and conditionals stay)."""
    key = normalize_key(key)
    drop = {d.line for d in parse_local_cf(text).directives if d.key == key}
    return _drop_lines(text, drop)


def _drop_lines(text: str, drop: set[int]) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(line for n, line in enumerate(lines, 1) if n not in drop)


def set_score(text: str, rule: str, score: str) -> str:
    """Text with `score RULE n`: the existing score line changed, or one added."""
    conf = parse_local_cf(text)
    if rule not in conf.scores:
        return _append(text, f"score {rule} {score}")
    line = conf.scores[rule][0]
    lines = text.splitlines(keepends=True)
    old = lines[line - 1]
    ending = old[len(old.rstrip("\r\n")) :]
    prefix = re.match(rf"\s*score\s+{re.escape(rule)}\s+", old, flags=re.I)
    head = prefix[0] if prefix else f"score {rule} "
    lines[line - 1] = f"{head}{score}{_comment_of(old)}{ending}"
    return "".join(lines)


def add_rule(
    text: str,
    kind: str,
    name: str,
    definition: str,
    *,
    score: str | None = None,
    describe: str | None = None,
) -> str:
    """Text with a new rule (and its score and description) at the end."""
    text = _append(text, f"{kind} {name} {definition}")
    if describe is not None:
        text = _append(text, f"describe {name} {describe}")
    if score is not None:
        text = _append(text, f"score {name} {score}")
    return text


def remove_rule(text: str, name: str) -> str:
    """Text without a rule's definition, score, describe and tflags lines."""
    owned = {*RULE_KINDS, "score", "describe", "descriptions", "tflags", "priority"}
    drop = {
        d.line
        for d in parse_local_cf(text).directives
        if d.key in owned and d.value.split()[:1] == [name]
    }
    return _drop_lines(text, drop)


def read_local_cf(host: Host, path: str = "/etc/spamassassin/local.cf") -> LocalCf:
    """Fetch and parse a local.cf from a lab machine."""
    return parse_local_cf(host.read(path), path=path)
