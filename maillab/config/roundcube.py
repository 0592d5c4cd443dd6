"""Roundcube config.inc.php: read `$config['key'] = value;` without running PHP.

A small PHP reader for what configuration files hold: strings (single and
double quoted, with their escapes), numbers, booleans, null, constants,
`array(...)` and `[...]`, concatenation with `.`, and the three comment
forms.  Anything else (function calls, variables) is kept as unreadable
source and reported, never guessed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from maillab.config.findings import ConfigSyntaxError, Finding, Severity

if TYPE_CHECKING:
    from maillab.remote.host import Host

log = logging.getLogger(__name__)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every key of /etc/roundcube/defaults.inc.php in Debian 12 (Roundcube 1.6.5).
KNOWN_KEYS = _words(
    """
    address_book_type address_template addressbook_name_listing
    addressbook_pagesize addressbook_search_mode addressbook_search_mods
    addressbook_sort_col advanced_prefs apc_debug apc_max_allowed_packet
    assets_dir assets_path auto_create_user autocomplete_addressbooks
    autocomplete_max autocomplete_min_length autocomplete_single
    autocomplete_threads autoexpand_threads blankpage_url check_all_folders
    cipher_method client_mimetypes collected_recipients collected_senders
    compose_extwin compose_responses_static compose_save_localstorage
    contact_form_mode contact_photo_size contact_search_name contactlist_fields
    create_default_folders date_format date_formats date_long date_short db_dsnr
    db_dsnw db_dsnw_noread db_max_allowed_packet db_persistent db_prefix
    db_table_dsn default_addressbook default_charset default_font
    default_font_size default_list_mode delete_junk des_key disabled_actions
    display_next display_product_info dont_override draft_autosave drafts_mbox
    dsn_default email_dns_check enable_installer enable_spellcheck
    flag_for_deletion force_7bit force_https forward_attachment forward_prefix
    generic_message_footer generic_message_footer_html html2text_links
    html2text_width htmleditor http_client http_received_header
    http_received_header_encrypt identities_level identity_image_size
    im_convert_path im_identify_path image_thumbnail_size imap_auth_cid
    imap_auth_pw imap_auth_type imap_cache imap_cache_ttl imap_conn_options
    imap_debug imap_delimiter imap_disabled_caps imap_dual_use_folders
    imap_force_caps imap_force_lsub imap_force_ns imap_host imap_log_session
    imap_ns_other imap_ns_personal imap_ns_shared imap_skip_hidden_folders
    imap_timeout imap_vendor include_host_config inline_images ip_check
    junk_mbox keyservers language layout ldap_cache ldap_cache_ttl ldap_debug
    ldap_public line_length list_cols log_date_format log_dir log_driver
    log_file_ext log_logins log_session_id login_autocomplete login_lc
    login_password_maxlen login_rate_limit login_username_filter
    login_username_maxlen logout_expunge logout_purge mail_domain mail_pagesize
    mail_read_time mailvelope_keysize mailvelope_main_keyring
    max_disclosed_recipients max_group_members max_message_size max_pagesize
    max_recipients mdn_default mdn_requests mdn_use_from memcache_debug
    memcache_hosts memcache_max_allowed_packet memcache_pconnect
    memcache_retry_interval memcache_timeout message_extwin message_show_email
    message_sort_col message_sort_order messages_cache messages_cache_threshold
    messages_cache_ttl mime_magic mime_param_folding mime_types
    min_refresh_interval no_save_sent_messages oauth_auth_parameters
    oauth_auth_uri oauth_client_id oauth_client_secret oauth_identity_fields
    oauth_identity_uri oauth_login_redirect oauth_provider oauth_provider_name
    oauth_scope oauth_token_uri oauth_verify_peer password_charset
    per_user_logging plugins prefer_html prettydate product_name
    protect_default_folders proxy_whitelist quota_zero_as_unlimited
    read_when_deleted redis_debug redis_hosts redis_max_allowed_packet
    refresh_interval reply_all_mode reply_mode reply_same_folder request_path
    response_image_size response_prefix search_mods send_format_flowed
    sendmail_delay sent_mbox session_auth_name session_debug session_domain
    session_lifetime session_name session_path session_samesite session_storage
    show_images show_real_foldernames show_sig sig_below sig_max_lines
    sig_separator skin skin_include_php skin_logo skins_allowed skip_deleted
    smtp_auth_cid smtp_auth_pw smtp_auth_type smtp_conn_options smtp_debug
    smtp_helo_host smtp_host smtp_log smtp_pass smtp_timeout smtp_user
    smtp_xclient_addr smtp_xclient_login spellcheck_before_send
    spellcheck_dictionary spellcheck_engine spellcheck_ignore_caps
    spellcheck_ignore_nums spellcheck_ignore_syms spellcheck_languages
    spellcheck_uri sql_debug standard_windows strip_existing_sig
    subject_forward_prefixes subject_reply_prefixes support_url syslog_facility
    syslog_id temp_dir temp_dir_ttl time_format time_formats timezone trash_mbox
    trusted_host_patterns undo_timeout use_https use_secure_urls user_aliases
    useragent username_domain username_domain_forced x_frame_options
    """
)
# Old name -> new name: rcube_config::$legacy_props still maps these in 1.6.
RENAMED_KEYS = {
    "default_host": "imap_host",
    "smtp_server": "smtp_host",
    "pagesize": "mail_pagesize",
    "top_posting": "reply_mode",
    "keep_alive": "refresh_interval",
    "min_keep_alive": "min_refresh_interval",
    "message_cache_lifetime": "messages_cache_ttl",
    "preview_pane_mark_read": "mail_read_time",
    "log_session": "session_debug",
}
# Keys 1.6 no longer reads at all, and what replaces them (the installer,
# rcmail_install.php, lists referer_check as obsolete and smtp_port as changed).
REMOVED_KEYS = {
    "default_port": "put the port in imap_host: 'ssl://mail.example.org:993'",
    "smtp_port": "put the port in smtp_host: 'tls://mail.example.org:587'",
    "log_level": "remove it: 1.6 logs errors to log_dir (log_driver 'file')",
    "referer_check": "remove it (Roundcube 1.6 checks request tokens itself)",
    "default_folders": "set drafts_mbox, sent_mbox, junk_mbox and trash_mbox",
}
SAMPLE_DES_KEY = "rcmail-!24ByteDESkey*Str"
# The plugins Debian 12's roundcube-plugins package ships.
DEBIAN_PLUGINS = _words(
    """
    acl additional_message_headers archive attachment_reminder autologon
    autologout database_attachments debug_logger emoticons enigma
    example_addressbook filesystem_attachments help hide_blockquote
    http_authentication identicon identity_select jqueryui krb_authentication
    managesieve markasjunk new_user_dialog new_user_identity newmail_notifier
    password reconnect redundant_attachments show_additional_headers
    squirrelmail_usercopy subscriptions_option userinfo vcard_attachments
    virtuser_file virtuser_query zipdownload
    """
)


@dataclass(frozen=True)
class Constant:
    """A PHP constant whose value is not known without running PHP."""

    name: str


@dataclass(frozen=True)
class Unreadable:
    """PHP source this reader does not evaluate (a call, a variable...)."""

    source: str


PhpValue = Union[str, int, float, bool, None, Constant, Unreadable, "PhpArray"]


class PhpArray(dict):  # type: ignore[type-arg]
    """A PHP array: ordered keys (int or str) to values."""

    def next_index(self) -> int:
        ints = [k for k in self if isinstance(k, int)]
        return max(ints) + 1 if ints else 0

    def is_list(self) -> bool:
        return list(self) == list(range(len(self)))

    def plain(self) -> object:
        """Lists for 0..n-1 keys, dicts otherwise, as json_encode shows them."""
        items = {k: _plain(v) for k, v in self.items()}
        return (
            list(items.values())
            if self.is_list()
            else {str(k): v for k, v in items.items()}
        )


def _plain(value: object) -> object:
    return value.plain() if isinstance(value, PhpArray) else value


@dataclass(frozen=True)
class Assignment:
    """One `$config[...] = value;` statement."""

    path: tuple[str | int | None, ...]  # None for `[]` (append)
    value: PhpValue
    line: int
    span: tuple[int, int]  # the statement's offsets in the text
    value_span: tuple[int, int]  # the value expression's offsets

    @property
    def key(self) -> str:
        return str(self.path[0]) if self.path else ""


@dataclass(frozen=True)
class Statement:
    """Any other statement: include/require, `$config = [];`, or unread code."""

    kind: str  # "include", "reset" or "other"
    source: str
    line: int


@dataclass
class RoundcubeConfig:
    path: str
    text: str
    assignments: list[Assignment] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    decode_error: str | None = None
    closing_tag: int | None = None  # line of a `?>`

    def values(self) -> PhpArray:
        """The $config array the file builds (includes are not followed)."""
        config = PhpArray()
        for assignment in self.assignments:
            _assign(config, assignment.path, assignment.value)
        return config

    def get(self, key: str) -> PhpValue:
        return self.values().get(key)

    def line_of(self, key: str) -> int | None:
        lines = [a.line for a in self.assignments if a.key == key]
        return lines[-1] if lines else None


def _assign(
    config: PhpArray, path: tuple[str | int | None, ...], value: PhpValue
) -> None:
    if not path:  # `$config = ...;`
        config.clear()
        if isinstance(value, PhpArray):
            config.update(value)
        return
    target = config
    for key in path[:-1]:
        key = target.next_index() if key is None else key
        if not isinstance(target.get(key), PhpArray):
            target[key] = PhpArray()
        target = target[key]
    last = path[-1]
    target[target.next_index() if last is None else last] = value


# --- tokens ---------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # var, str, num, ident, op, end (`?>`)
    text: str
    value: object
    start: int
    end: int
    line: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<comment>//[^\n]*?(?=\?>|\n|$)|\#[^\n]*?(?=\?>|\n|$)|/\*.*?\*/)
    |(?P<end>\?>)
    |(?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
    |(?P<num>0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+
        |(?:\d[\d_]*)?\.\d[\d_]*(?:[eE][-+]?\d+)?|\d[\d_]*\.?(?:[eE][-+]?\d+)?)
    |(?P<ident>[A-Za-z_\\][A-Za-z0-9_\\]*)
    |(?P<op>=>|::|\*\*|[-+*/.=,;()\[\]{}?:!<>&|^%@~])
    """,
    re.X | re.S,
)
_SINGLE_ESCAPES = re.compile(r"\\([\\'])")
_DOUBLE_ESCAPES = re.compile(
    r"\\(?:([nrtvef\\$\"])|([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u\{([0-9A-Fa-f]+)\})"
)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "v": "\v", "e": "\x1b", "f": "\f"}


def _double_escape(match: re.Match[str]) -> str:
    simple, octal, hexa, uni = match.groups()
    if simple:
        return _SIMPLE.get(simple, simple)
    if octal:
        return chr(int(octal, 8) & 0xFF)
    if hexa:
        return chr(int(hexa, 16))
    code = int(uni, 16)
    return chr(code) if code <= 0x10FFFF else match[0]


def _string_token(text: str, start: int, line: int, path: str) -> _Token:
    quote = text[start]
    pattern = r"'(?:[^'\\]|\\.)*'" if quote == "'" else r'"(?:[^"\\]|\\.)*"'
    match = re.compile(pattern, re.S).match(text, start)
    if match is None:
        raise ConfigSyntaxError(
            path, line, "a string is never closed", f"close the {quote} string"
        )
    body = match[0][1:-1]
    if quote == "'":
        value: object = _SINGLE_ESCAPES.sub(r"\1", body)
    elif re.search(r"(?<!\\)(?:\\\\)*\$[A-Za-z_{]|\{\$", body):
        value = Unreadable(match[0])  # "$var" interpolation needs PHP
    else:
        value = _DOUBLE_ESCAPES.sub(_double_escape, body)
    return _Token("str", match[0], value, start, match.end(), line)


def tokenize(text: str, *, path: str = "config.inc.php") -> list[_Token]:
    """The PHP tokens after `<?php` (and after each later `<?php`)."""
    tokens: list[_Token] = []
    pos = _open_tag(text, 0, path)
    while pos < len(text):
        line = text.count("\n", 0, pos) + 1
        if text[pos] in "'\"":
            token = _string_token(text, pos, line, path)
        elif text.startswith("<<<", pos):
            # Shortcoming: heredoc and nowdoc strings are not read.
            raise ConfigSyntaxError(
                path,
                line,
                "heredoc strings are not read by this parser",
                "use a quoted string",
            )
        else:
            token = _plain_token(text, pos, line, path)
        pos = token.end
        if token.kind == "end":
            tokens.append(token)
            pos = _open_tag(text, pos, path, required=False)
        elif token.kind not in ("space", "comment"):
            tokens.append(token)
    return tokens


def _plain_token(text: str, pos: int, line: int, path: str) -> _Token:
    if text.startswith("/*", pos) and "*/" not in text[pos + 2 :]:
        raise ConfigSyntaxError(
            path, line, "a /* comment is never closed", "close it with */"
        )
    match = _TOKEN.match(text, pos)
    if match is None or match.lastgroup is None:
        raise ConfigSyntaxError(
            path, line, f"unexpected character {text[pos]!r}", "correct the PHP syntax"
        )
    kind, source = match.lastgroup, match[0]
    value: object = _number(source) if kind == "num" else source
    return _Token(kind, source, value, pos, match.end(), line)


def _open_tag(text: str, pos: int, path: str, *, required: bool = True) -> int:
    found = re.compile(r"<\?php(?:\s|$)|<\?=", re.I).search(text, pos)
    if found is None:
        if required:
            raise ConfigSyntaxError(
                path, None, "no <?php opening tag", "start the file with <?php"
            )
        return len(text)
    return found.end()


def _number(source: str) -> int | float:
    digits = source.replace("_", "")
    lowered = digits.lower()
    if lowered.startswith(("0x", "0b", "0o")):
        return int(digits, 0)
    if re.fullmatch(r"0[0-7]+", digits):
        return int(digits, 8)
    if re.fullmatch(r"\d+", digits):
        return int(digits)
    return float(digits)


# --- statements and expressions -----------------------------------------------


class _Unread(Exception):
    """An expression this reader does not evaluate."""


_KNOWN_CONSTANTS: dict[str, PhpValue] = {
    "PHP_EOL": "\n",
    "DIRECTORY_SEPARATOR": "/",
    "PHP_INT_MAX": 2**63 - 1,
}
_INCLUDES = ("include", "include_once", "require", "require_once")


def _statements(tokens: list[_Token], path: str) -> list[list[_Token]]:
    """Tokens grouped by top-level `;` (or `?>`, which also ends one)."""
    groups: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "op" and token.text in "([{":
            depth += 1
        elif token.kind == "op" and token.text in ")]}":
            depth -= 1
            if depth < 0:
                raise ConfigSyntaxError(
                    path,
                    token.line,
                    f"unmatched {token.text!r}",
                    "remove it or add the opening bracket",
                )
        if (
            token.kind == "op" and token.text == ";" and depth == 0
        ) or token.kind == "end":
            groups.append([])
            continue
        groups[-1].append(token)
        if token.text == "}" and depth == 0 and _is_block(groups[-1]):
            groups.append([])
    if depth != 0 or (groups[-1] and tokens and tokens[-1].kind != "end"):
        last = groups[-1][0] if groups[-1] else tokens[-1]
        raise ConfigSyntaxError(
            path,
            last.line,
            "a statement does not end (missing ';' or closing bracket)",
            "end each assignment with ';'",
        )
    return [g for g in groups if g]


_BLOCKS = _words(
    "if else elseif foreach for while switch function try catch finally do"
)
_WORD_OPERATORS = frozenset({"and", "or", "xor", "instanceof"})


def _is_block(group: list[_Token]) -> bool:
    """A statement such as `if (...) { ... }`, which ends at its `}`."""
    return group[0].kind == "ident" and group[0].text.lower() in _BLOCKS


def parse_roundcube_config(
    data: str | bytes, *, path: str = "config.inc.php"
) -> RoundcubeConfig:
    """Parse config.inc.php.  Raises ConfigSyntaxError where PHP would too."""
    text, decode_error = _decode(data)
    conf = RoundcubeConfig(path, text, decode_error=decode_error)
    tokens = tokenize(text, path=path)
    ends = [t.line for t in tokens if t.kind == "end"]
    conf.closing_tag = ends[-1] if ends else None
    for group in _statements(tokens, path):
        _read_statement(conf, group)
    return conf


def _decode(data: str | bytes) -> tuple[str, str | None]:
    if isinstance(data, str):
        return data, None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "replace"), f"not valid UTF-8 at byte {exc.start}"


def _read_statement(conf: RoundcubeConfig, group: list[_Token]) -> None:
    first = group[0]
    source = conf.text[first.start : group[-1].end]
    if first.kind == "ident" and first.text.lower() in _INCLUDES:
        conf.statements.append(Statement("include", source, first.line))
        return
    if first.kind != "var" or first.text != "$config":
        conf.statements.append(Statement("other", source, first.line))
        return
    parser = _Parser(group, conf.text, 1, path=conf.path)
    try:
        keys = parser.keys()
        parser.expect("=")
    except _Unread:
        conf.statements.append(Statement("other", source, first.line))
        return
    start = group[parser.pos].start if parser.pos < len(group) else group[-1].end
    value = parser.value_or_unreadable()
    span = (first.start, _statement_end(conf.text, group[-1].end))
    conf.assignments.append(
        Assignment(keys, value, first.line, span, (start, group[-1].end))
    )
    if not keys:
        conf.statements.append(Statement("reset", source, first.line))


def _statement_end(text: str, pos: int) -> int:
    match = re.compile(r"\s*;").match(text, pos)
    return match.end() if match else pos


class _Parser:
    """Evaluates one statement's expression tokens."""

    def __init__(
        self, tokens: list[_Token], text: str, pos: int = 0, *, path: str = ""
    ) -> None:
        self.tokens, self.text, self.pos, self.path = tokens, text, pos, path

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_op(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text == text

    def expect(self, text: str) -> None:
        if not self.is_op(text):
            raise _Unread(text)
        self.pos += 1

    def keys(self) -> tuple[str | int | None, ...]:
        found: list[str | int | None] = []
        while self.is_op("["):
            self.pos += 1
            if self.is_op("]"):
                found.append(None)
            else:
                found.append(array_key(self.expression()))
            self.expect("]")
        return tuple(found)

    def value_or_unreadable(self) -> PhpValue:
        start = self.pos
        try:
            value = self.expression()
            if self.pos != len(self.tokens):
                self.refuse_juxtaposed()
                raise _Unread("trailing tokens")
            return value
        except _Unread:
            first, last = self.tokens[start], self.tokens[-1]
            return Unreadable(self.text[first.start : last.end])

    def refuse_juxtaposed(self) -> None:
        """Two values side by side (a missing `;`): PHP refuses the file."""
        token = self.tokens[self.pos]
        word = token.kind == "ident" and token.text.lower() not in _WORD_OPERATORS
        if token.kind in ("var", "str", "num") or word:
            raise ConfigSyntaxError(
                self.path,
                token.line,
                f"unexpected {token.text[:20]!r} (missing ';' on the line before?)",
                "end each assignment with ';'",
            )

    def expression(self) -> PhpValue:
        value = self.additive()
        while self.is_op("."):
            self.pos += 1
            value = to_php_string(value) + to_php_string(self.additive())
        return value

    def additive(self) -> PhpValue:
        value = self.multiplicative()
        while self.is_op("+") or self.is_op("-"):
            operator = self.tokens[self.pos].text
            self.pos += 1
            value = _arithmetic(operator, value, self.multiplicative())
        return value

    def multiplicative(self) -> PhpValue:
        value = self.unary()
        while self.is_op("*") or self.is_op("/"):
            operator = self.tokens[self.pos].text
            self.pos += 1
            value = _arithmetic(operator, value, self.unary())
        return value

    def unary(self) -> PhpValue:
        if self.is_op("-") or self.is_op("+"):
            operator = self.tokens[self.pos].text
            self.pos += 1
            return _arithmetic(operator, 0, self.unary())
        return self.primary()

    def primary(self) -> PhpValue:
        token = self.peek()
        if token is None:
            raise _Unread("end")
        self.pos += 1
        if token.kind == "str":
            if isinstance(token.value, Unreadable):
                raise _Unread("interpolation")
            return str(token.value)
        if token.kind == "num":
            return token.value  # type: ignore[return-value]
        if token.kind == "op" and token.text == "[":
            return self.elements("]")
        if token.kind == "op" and token.text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if token.kind == "ident":
            return self.identifier(token)
        raise _Unread(token.text)

    def identifier(self, token: _Token) -> PhpValue:
        name = token.text.lower()
        if name == "array" and self.is_op("("):
            self.pos += 1
            return self.elements(")")
        if self.is_op("(") or self.is_op("::"):
            raise _Unread("call")
        words: dict[str, PhpValue] = {"true": True, "false": False, "null": None}
        if name in words:
            return words[name]
        return _KNOWN_CONSTANTS.get(token.text, Constant(token.text))

    def elements(self, closer: str) -> PhpArray:
        array = PhpArray()
        while not self.is_op(closer):
            value = self.expression()
            if self.is_op("=>"):
                self.pos += 1
                array[array_key(value)] = self.expression()
            else:
                array[array.next_index()] = value
            if not self.is_op(closer):
                self.expect(",")
        self.pos += 1
        return array


def _arithmetic(operator: str, left: PhpValue, right: PhpValue) -> PhpValue:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        raise _Unread("bool arithmetic")
    if not isinstance(left, numbers) or not isinstance(right, numbers):
        raise _Unread("arithmetic on non-numbers")
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        raise _Unread("division by zero")
    result = left / right
    return (
        int(result)
        if result.is_integer() and isinstance(left, int) and isinstance(right, int)
        else result
    )


def array_key(value: PhpValue) -> str | int:
    """The key PHP makes of a value: "1" -> 1, true -> 1, null -> ""."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return int(value) if re.fullmatch(r"-?[1-9]\d{0,17}|0", value) else value
    raise _Unread("key")


def to_php_string(value: PhpValue) -> str:
    """What PHP's `.` makes of a value (floats in PHP's short form)."""
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Shortcoming: very large or small floats print differently in PHP.
        return (
            str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        )
    if isinstance(value, str):
        return value
    raise _Unread("not a string")


# --- linting ------------------------------------------------------------


def lint_roundcube_config(
    data: str | bytes | RoundcubeConfig, *, path: str = "config.inc.php"
) -> list[Finding]:
    """Findings for a Roundcube 1.6 config.inc.php; never raises."""
    findings: list[Finding] = []
    try:
        conf = (
            data
            if isinstance(data, RoundcubeConfig)
            else parse_roundcube_config(data, path=path)
        )
    except ConfigSyntaxError as exc:
        return [
            Finding(
                Severity.ERROR,
                exc.file,
                exc.line,
                f"PHP cannot read this file: "
                f"{str(exc).split(': ', 1)[-1].split('; ')[0]}",
                exc.fix,
                "roundcube.syntax",
            )
        ]
    try:
        findings = _Lint(conf).run()
    except Exception:  # a linter never raises: report the bug as a finding
        log.exception("lint_roundcube_config failed on %s", conf.path)
        findings.append(
            Finding(
                Severity.ERROR,
                conf.path,
                None,
                "the linter failed on this file",
                "report a bug",
                "roundcube.lint-failed",
            )
        )
    return findings


@dataclass
class _Lint:
    conf: RoundcubeConfig
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, severity: Severity, line: int | None, message: str, fix: str, code: str
    ) -> None:
        self.findings.append(
            Finding(severity, self.conf.path, line, message, fix, code)
        )

    def run(self) -> list[Finding]:
        if self.conf.decode_error:
            self.add(
                Severity.WARNING,
                None,
                f"the file is {self.conf.decode_error}",
                "save it as UTF-8",
                "roundcube.not-utf8",
            )
        values = self.conf.values()
        for assignment in self.conf.assignments:
            if assignment.path:
                self.check_key(assignment, values)
        self.check_des_key(values)
        self.check_plugins(values)
        self.check_hosts(values)
        self.check_statements()
        return sorted(self.findings, key=lambda f: f.line or 0)

    def check_key(self, a: Assignment, values: PhpArray) -> None:
        key = a.key
        if isinstance(a.value, Unreadable):
            self.add(
                Severity.INFO,
                a.line,
                f"the value of {key} is PHP code this "
                f"reader does not evaluate: {a.value.source[:60]}",
                "check it on the box with php",
                "roundcube.unreadable",
            )
        if key in RENAMED_KEYS:
            new = RENAMED_KEYS[key]
            self.add(
                Severity.WARNING,
                a.line,
                f"{key} is the old name of {new} "
                f"(Roundcube 1.6 still maps it, but only when {new} is not "
                f"set)",
                f"rename it: $config['{new}']",
                "roundcube.renamed-option",
            )
        elif key in REMOVED_KEYS:
            self.add(
                Severity.WARNING,
                a.line,
                f"{key} is not read by Roundcube 1.6 any more: this line has no effect",
                self.removed_fix(key, values),
                "roundcube.removed-option",
            )
        elif key not in KNOWN_KEYS:
            self.add(
                Severity.INFO,
                a.line,
                f"{key} is not a Roundcube 1.6 option",
                "fine if a plugin reads it; otherwise check the name in "
                "defaults.inc.php",
                "roundcube.unknown-option",
            )

    def removed_fix(self, key: str, values: PhpArray) -> str:
        host_key = {"default_port": "imap_host", "smtp_port": "smtp_host"}.get(key)
        if host_key is None:
            return REMOVED_KEYS[key]
        old = {"imap_host": "default_host", "smtp_host": "smtp_server"}[host_key]
        host = values.get(host_key, values.get(old))
        port = values.get(key)
        first = next(iter(host), None) if isinstance(host, PhpArray) else host
        if isinstance(first, str) and isinstance(port, int) and not _has_port(first):
            return f"write $config['{host_key}'] = '{first}:{port}'"
        return REMOVED_KEYS[key]

    def check_des_key(self, values: PhpArray) -> None:
        key = values.get("des_key")
        line = self.conf.line_of("des_key")
        if key == SAMPLE_DES_KEY:
            self.add(
                Severity.WARNING,
                line,
                "des_key is the sample key everyone "
                "knows: session passwords are encrypted with it",
                "put 24 random characters (openssl rand -base64 18)",
                "roundcube.sample-des-key",
            )
        elif isinstance(key, str) and len(key.encode()) != 24:
            self.add(
                Severity.WARNING,
                line,
                f"des_key has {len(key.encode())} bytes; "
                "the default cipher (DES-EDE3-CBC) needs 24",
                "put exactly 24 characters",
                "roundcube.des-key-length",
            )

    def check_plugins(self, values: PhpArray) -> None:
        plugins = values.get("plugins")
        if not isinstance(plugins, PhpArray):
            return
        line = self.conf.line_of("plugins")
        for name in plugins.values():
            if isinstance(name, str) and name not in DEBIAN_PLUGINS:
                self.add(
                    Severity.WARNING,
                    line,
                    f"plugin {name!r} is not shipped by Debian 12's roundcube-plugins",
                    "install it under /usr/share/roundcube/plugins or remove it",
                    "roundcube.unknown-plugin",
                )

    def check_hosts(self, values: PhpArray) -> None:
        for key, plain, tls in (
            ("imap_host", 143, 993),
            ("default_host", 143, 993),
            ("smtp_host", 587, 465),
            ("smtp_server", 587, 465),
        ):
            for host in _hosts(values.get(key)):
                problem = host_problem(host, plain, tls)
                if problem:
                    self.add(
                        Severity.WARNING,
                        self.conf.line_of(key),
                        f"{key} {host!r}: {problem}",
                        "use ssl:// with the TLS port "
                        f"({tls}) or tls:// with the STARTTLS port ({plain})",
                        "roundcube.host-port",
                    )
        dsn = values.get("db_dsnw")
        if isinstance(dsn, str) and dsn.startswith(("mysql", "pgsql")):
            self.add(
                Severity.INFO,
                self.conf.line_of("db_dsnw"),
                f"db_dsnw uses "
                f"{dsn.split(':')[0]}, but the lab box has no database server: "
                "Debian's package uses SQLite (debian-db-roundcube.php)",
                "keep Debian's include of debian-db-roundcube.php",
                "roundcube.database",
            )

    def check_statements(self) -> None:
        for st in self.conf.statements:
            if st.kind == "other":
                self.add(
                    Severity.INFO,
                    st.line,
                    f"a statement this reader does not follow: {st.source[:60]}",
                    "check it with php -l",
                    "roundcube.other-statement",
                )
        if self.conf.closing_tag is not None:
            self.add(
                Severity.INFO,
                self.conf.closing_tag,
                "a closing ?> tag: "
                "any blank line after it is sent before Roundcube's headers",
                "remove the ?> at the end of the file",
                "roundcube.closing-tag",
            )


def _hosts(value: PhpValue) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, PhpArray):
        return [str(k) if not isinstance(k, int) else str(v) for k, v in value.items()]
    return []


def _has_port(host: str) -> bool:
    return bool(re.search(r":\d+$", host))


def host_problem(host: str, plain: int, tls: int) -> str | None:
    """A scheme and port that cannot work together (ssl:// on 587...)."""
    match = re.fullmatch(r"(?:(\w+)://)?(.*?)(?::(\d+))?", host)
    if not match or not match[3]:
        return None
    scheme, port = (match[1] or "").lower(), int(match[3])
    if scheme in ("ssl", "imaps") and port == plain:
        return f"ssl:// (TLS from the first byte) on the STARTTLS port {port}"
    if scheme in ("tls", "") and port == tls:
        return f"{scheme or 'no scheme'} (plain or STARTTLS) on the TLS port {port}"
    return None


# --- editing ------------------------------------------------------------


def to_php(value: object) -> str:
    """A PHP literal for a value (str, number, bool, None, list, dict)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, Constant):
        return value.name
    if isinstance(value, list):
        return "[" + ", ".join(to_php(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{to_php(k)} => {to_php(v)}" for k, v in value.items())
        return "[" + ", ".join(items) + "]"
    raise TypeError(f"no PHP literal for {type(value).__name__}")


def set_option(text: str, key: str, value: object) -> str:
    """Text with `$config['key'] = value;`: the last assignment's value replaced,
    or a new line added (before a closing ?> if there is one)."""
    conf = parse_roundcube_config(text)
    matching = [a for a in conf.assignments if a.path == (key,)]
    literal = to_php(value)
    if matching:
        start, end = matching[-1].value_span
        return text[:start] + literal + text[end:]
    line = f"$config[{to_php(key)}] = {literal};"
    ending = "\r\n" if "\r\n" in text else "\n"
    close = re.search(r"\?>\s*\Z", text)
    if close:
        head = text[: close.start()]
        sep = "" if head.endswith(("\n", "\r")) else ending
        return f"{head}{sep}{line}{ending}{text[close.start() :]}"
    sep = "" if text.endswith(("\n", "\r")) else ending
    return f"{text}{sep}{line}{ending}"


def remove_option(text: str, key: str) -> str:
    """Text without the statements that assign `$config['key']` (or its parts)."""
    conf = parse_roundcube_config(text)
    for a in sorted(conf.assignments, key=lambda a: a.span, reverse=True):
        if a.path[:1] == (key,):
            start, end = _whole_lines(text, *a.span)
            text = text[:start] + text[end:]
    return text


def _whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to its whole lines when nothing else is on them."""
    line_start = text.rfind("\n", 0, start) + 1
    rest = re.compile(r"[ \t]*(?://[^\n]*|#[^\n]*)?(?:\r?\n|\Z)").match(text, end)
    if text[line_start:start].strip() == "" and rest:
        return line_start, rest.end()
    return start, end


def rename_option(text: str, old: str, new: str) -> str:
    """Text with `$config['old']` written `$config['new']` in every assignment."""
    conf = parse_roundcube_config(text)
    pattern = re.compile(r"(\$config\s*\[\s*)(['\"])" + re.escape(old) + r"\2")
    for a in sorted(conf.assignments, key=lambda a: a.span, reverse=True):
        if a.path[:1] == (old,):
            start, end = a.span
            text = (
                text[:start]
                + pattern.sub(rf"\g<1>\g<2>{new}\g<2>", text[start:end], 1)
                + text[end:]
            )
    return text


def read_roundcube_config(
    host: Host, path: str = "/etc/roundcube/config.inc.php"
) -> RoundcubeConfig:
    """Fetch and parse a config.inc.php from a lab machine."""
    return parse_roundcube_config(host.read(path), path=path)
