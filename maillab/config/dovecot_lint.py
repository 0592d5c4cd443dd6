"""Findings on a Dovecot tree: what doveconf refuses, and what the chapter gets wrong.

Every finding names the file and line that really holds the setting (after
following includes).  Messages for what doveconf itself refuses are its own
words, so a student can match them with `doveconf -n`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from maillab.config.dovecot import (
    DEFAULT_ROOT,
    FILTER_KINDS,
    MERGED_UNNAMED,
    OBSOLETE,
    DovecotConfig,
    Section,
    Setting,
    Source,
    parse_dovecot,
)
from maillab.config.dovecot_defaults import DovecotDefaults, normalize
from maillab.config.findings import ConfigSyntaxError, Finding, Severity

# Known shortcoming: `<file` values are not checked for existence.  Dovecot
# refuses to start without them ("ssl_cert: Can't open file
# /etc/ssl/certs/postfix.pem: No such file or directory"), and doveconf -n
# reads them inside plugin { } too; read_dovecot_tree does not fetch them,
# since private keys must not leave the lab machine.
MODULES = "/usr/lib/dovecot/modules"
# Plugins of Dovecot 2.1 that 2.3 no longer ships, and what replaced them.
REMOVED_PLUGINS = {
    "autocreate": "mailbox sections with `auto = subscribe` inside the namespace",
    "autosubscribe": "mailbox sections with `auto = subscribe` inside the namespace",
}
WEAK_CIPHERS = frozenset(
    ("RC4", "EXP", "EXPORT", "NULL", "eNULL", "aNULL", "LOW", "DES", "MD5", "3DES")
) | {"ADH", "SSLv2"}
OLD_TLS = ("SSLv3", "TLSv1", "TLSv1.1")
PRIVILEGED_PASSDBS = ("pam", "shadow")


def lint_dovecot(
    source: DovecotConfig | str | bytes,
    *,
    path: str = DEFAULT_ROOT,
    files: Source | None = None,
    defaults: DovecotDefaults | None = None,
) -> list[Finding]:
    """Every finding on a tree (or on one file's text).  Never raises."""
    try:
        config = _as_config(source, path, files, defaults)
    except ConfigSyntaxError as exc:
        return [
            Finding(
                Severity.ERROR,
                exc.file,
                exc.line,
                str(exc),
                exc.fix,
                "dovecot.unreadable",
            )
        ]
    findings = list(config.problems)
    if defaults is not None:
        findings += _unknown_and_invalid(config, defaults)
    for check in (_plugins, _ciphers, _tls, _plaintext, _listener_modes, _auth_worker):
        findings += check(config)
    return findings


def _as_config(
    source: DovecotConfig | str | bytes,
    path: str,
    files: Source | None,
    defaults: DovecotDefaults | None,
) -> DovecotConfig:
    if isinstance(source, DovecotConfig):
        return source
    tree: Source = files if files is not None else {}
    if isinstance(tree, Mapping):  # a loader, by contrast, is asked for `path`
        tree = {**tree, path: source}
    return parse_dovecot(path, files=tree, defaults=defaults)


def raw_settings(
    config: DovecotConfig,
) -> Iterator[tuple[tuple[Section, ...], Setting]]:
    """Every `key = value` line of every file, with the sections around it."""
    for dovecot_file in config.files.values():
        yield from _raw((dovecot_file.top,))


def _raw(chain: tuple[Section, ...]) -> Iterator[tuple[tuple[Section, ...], Setting]]:
    for entry in chain[-1].entries:
        if isinstance(entry, Setting):
            yield chain, entry
        elif isinstance(entry, Section):
            yield from _raw((*chain, entry))


def _unknown_and_invalid(
    config: DovecotConfig, defaults: DovecotDefaults
) -> list[Finding]:
    findings = []
    for chain, setting in raw_settings(config):
        kinds = [s.kind for s in chain[1:] if s.kind not in FILTER_KINDS]
        if any(kind in MERGED_UNNAMED for kind in kinds):
            continue  # plugin { } and dict { } take any key
        pattern = "/".join((*kinds, setting.key))
        if not kinds and setting.key in OBSOLETE:
            continue
        if not defaults.has(pattern):
            findings.append(_unknown(setting, kinds))
            continue
        _, problem = normalize(setting.value, defaults.type_of(pattern))
        if problem and not setting.is_file:
            findings.append(
                _finding(setting, "dovecot.invalid-value", problem, _VALUE_FIX)
            )
    return findings


_VALUE_FIX = "write the value in the form the setting takes (see doveconf -d)"


def _unknown(setting: Setting, kinds: list[str]) -> Finding:
    where = "".join(f"{kind} {{ " for kind in kinds)
    message = f"Unknown setting: {where}{setting.key}"
    fix = "check the name in doveconf -d (this Dovecot is 2.3); remove or rename it"
    return _finding(setting, "dovecot.unknown-setting", message, fix)


def _plugins(config: DovecotConfig) -> list[Finding]:
    findings = []
    for chain, setting in config.walk():
        if setting.key != "mail_plugins" or not all(
            b.is_filter or not b.kind for b in chain
        ):
            continue
        for plugin in setting.effective.split():
            if plugin in REMOVED_PLUGINS:
                message = f"Plugin '{plugin}' not found from directory {MODULES}"
                fix = f"remove {plugin}: Dovecot 2.3 has {REMOVED_PLUGINS[plugin]}"
                findings.append(
                    _finding(setting, "dovecot.removed-plugin", message, fix)
                )
    return findings


def _ciphers(config: DovecotConfig) -> list[Finding]:
    setting = config.setting("ssl_cipher_list")
    if setting is None:
        return []
    weak = [word for word in _cipher_words(setting.effective) if _is_weak(word)]
    if not weak:
        return []
    message = f"ssl_cipher_list turns on weak ciphers: {', '.join(weak)}"
    fix = "remove ssl_cipher_list to keep Debian's default (which has !RC4, !aNULL...)"
    return [_finding(setting, "dovecot.weak-cipher", message, fix, Severity.WARNING)]


def _cipher_words(value: str) -> list[str]:
    return [w for w in value.replace(",", ":").replace(" ", ":").split(":") if w]


def _is_weak(word: str) -> bool:
    if word[0] in "!-":
        return False
    names = word.lstrip("+").split("+")
    return any(name in WEAK_CIPHERS for name in names)


def _tls(config: DovecotConfig) -> list[Finding]:
    setting = config.setting("ssl_min_protocol")
    if setting is None or setting.effective not in OLD_TLS:
        return []
    message = f"ssl_min_protocol = {setting.effective} allows protocols broken today"
    fix = "use ssl_min_protocol = TLSv1.2 (Dovecot 2.3's default)"
    return [_finding(setting, "dovecot.old-tls", message, fix, Severity.WARNING)]


def _plaintext(config: DovecotConfig) -> list[Finding]:
    ssl = config.get("ssl", "yes")
    plaintext = config.setting("disable_plaintext_auth")
    if plaintext is None or normalize(plaintext.effective, "bool")[0] != "no":
        return []
    if ssl == "no":
        message = "disable_plaintext_auth = no and ssl = no: passwords travel in clear"
    elif ssl == "required":
        return []
    else:
        message = (
            "disable_plaintext_auth = no: clients may send passwords before STARTTLS"
        )
    fix = "set disable_plaintext_auth = yes (or ssl = required)"
    return [
        _finding(plaintext, "dovecot.plaintext-auth", message, fix, Severity.WARNING)
    ]


def _listener_modes(config: DovecotConfig) -> list[Finding]:
    findings = []
    for service in config.services():
        for listener in service.blocks:
            mode = listener.settings.get("mode")
            if (
                mode is None
                or mode.effective.startswith("0")
                or not mode.effective.isdigit()
            ):
                continue
            shown, _ = normalize(mode.effective, "octal")
            message = (
                f"mode = {mode.effective} is read as decimal: Dovecot uses {shown}"
            )
            fix = (
                f"write the mode in octal with a leading zero: mode = 0{mode.effective}"
            )
            findings.append(
                _finding(mode, "dovecot.decimal-mode", message, fix, Severity.ERROR)
            )
    return findings


def _auth_worker(config: DovecotConfig) -> list[Finding]:
    service = config.service("auth-worker")
    user = service.settings.get("user") if service else None
    if user is None or user.effective in ("root", ""):
        return []
    drivers = {passdb.get("driver") for passdb in config.top.all("passdb")}
    if not drivers & set(PRIVILEGED_PASSDBS):
        return []
    message = (
        f"service auth-worker runs as {user.effective}, but passdb "
        f"{'/'.join(sorted(d for d in drivers if d))} must read /etc/shadow as root"
    )
    # Seen on a box: "pam_unix(dovecot:auth): authentication failure; ...
    # euid=109" and unix_chkpwd "password check failed" for every user.
    fix = "remove `user` from service auth-worker (it must stay root for PAM)"
    return [_finding(user, "dovecot.auth-worker-user", message, fix, Severity.ERROR)]


def _finding(
    setting: Setting,
    code: str,
    message: str,
    fix: str,
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(severity, setting.file, setting.line, message, fix, code)
