"""The effective Dovecot configuration printed the way `doveconf -n` prints it.

What doveconf 2.3 prints, as observed on Debian 12's 2.3.19:
- a top-level setting when its value differs from the default;
- inside sections (service, namespace, passdb, ...) every setting a file set,
  even to its default; a section with nothing to print is left out, except
  that a namespace always shows `location` and `prefix`;
- keys sorted, sections sorted among them by kind then name;
  filters (protocol, local, remote) last;
- values normalised by type (`y` -> `yes`, `60s` -> `1 mins`, `1024` ->
  `1 k`, `mode = 600` -> `01130`), secrets replaced by a note.
"""

from __future__ import annotations

import difflib

from maillab.config.dovecot import Block, DovecotConfig, Setting
from maillab.config.dovecot_defaults import HIDDEN, DovecotDefaults, normalize

# doveconf fills these from managesieve-login's capability dump, so they
# differ from the compiled-in empty default whenever Pigeonhole is installed.
CAPABILITIES = ("managesieve_notify_capability", "managesieve_sieve_capability")
ALWAYS_SHOWN = {"namespace": ("location", "prefix")}
_SECRET_SUFFIXES = ("_password", "_key", "_nonce")
_INDENT = "  "
_NOT_FATAL = ("dovecot.ssl-protocols",)  # doveconf says "Error:" and goes on


def format_doveconf_n(config: DovecotConfig, defaults: DovecotDefaults) -> str:
    """The text `doveconf -n` prints for this tree (with its first comment line)."""
    lines = [f"# {defaults.version}: {config.path}"]
    # A config doveconf refuses also stops the capability dump.
    failed = any(
        problem.severity == "error" and problem.code not in _NOT_FATAL
        for problem in config.problems
    )
    lines += _top_lines(config.top, defaults, capabilities=not failed)
    return "\n".join(lines) + "\n"


def doveconf_n_lines(text: str) -> list[str]:
    """doveconf -n output without its first comment lines (version, OS, host)."""
    lines = text.splitlines()
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return lines


def diff_doveconf_n(expected: str, actual: str) -> list[str]:
    """The lines that differ (unified diff), ignoring the leading comments."""
    return list(
        difflib.unified_diff(
            doveconf_n_lines(expected),
            doveconf_n_lines(actual),
            "doveconf -n",
            "maillab",
            lineterm="",
        )
    )


def is_secret(key: str) -> bool:
    """Whether doveconf hides this setting's value."""
    return key == "ssl_dh" or key.endswith(_SECRET_SUFFIXES)


def _top_lines(
    top: Block, defaults: DovecotDefaults, *, capabilities: bool
) -> list[str]:
    items: list[tuple[str, list[str]]] = []
    for key, setting in top.settings.items():
        if _differs(setting, defaults) or key in CAPABILITIES:
            items.append((key, [_setting_line(setting, key, defaults, 0)]))
    for key in CAPABILITIES if capabilities else ():
        if key not in top.settings and defaults.settings.get(key):
            items.append((key, [f"{key} = {defaults.settings[key]}"]))
    for block in top.blocks:
        if not block.is_filter:
            items.append((_block_key(block, top), _block_lines(block, (), 0, defaults)))
    lines = _sorted_lines(items)
    for block in sorted(_filters(top), key=_filter_order):
        lines += _block_lines(block, (), 0, defaults)
    return lines


def _sorted_lines(items: list[tuple[str, list[str]]]) -> list[str]:
    return [line for _, chunk in sorted(items, key=lambda i: i[0]) for line in chunk]


def _block_key(block: Block, parent: Block) -> str:
    """Where doveconf sorts a section: `kind/escaped-name/` among the keys."""
    name = block.name
    if name is None:  # unnamed list elements are numbered in order
        same = [b for b in parent.blocks if b.kind == block.kind and b.name is None]
        name = str(same.index(block))
    return f"{block.kind}/{_escape(name)}/"


def _escape(name: str) -> str:
    """Dovecot's settings_section_escape(): the name as it sorts."""
    out = []
    for char in name:
        out.append(_ESCAPES.get(char, char))
    return "".join(out)


_ESCAPES = {"=": "\\e", "/": "\\|", "\\": "\\\\", ",": "\\s", " ": "\\_"}


def _filters(top: Block) -> list[Block]:
    return [block for block in top.blocks if block.is_filter]


def _filter_order(block: Block) -> int:
    # Known shortcoming: doveconf sorts filters by its own specificity rules;
    # observed: protocol filters first, then remote, then local.
    return ("protocol", "remote", "local").index(block.kind)


def _differs(setting: Setting, defaults: DovecotDefaults) -> bool:
    default = defaults.settings.get(setting.key)
    if default is None:
        return True
    kind = defaults.type_of(setting.key)
    value = ("<" + setting.effective) if setting.is_file else setting.effective
    return normalize(value, kind)[0] != normalize(default, kind)[0]


def _block_lines(
    block: Block, kinds: tuple[str, ...], depth: int, defaults: DovecotDefaults
) -> list[str]:
    inner = kinds if block.is_filter else (*kinds, block.kind)
    indent = _INDENT * (depth + 1)
    items: list[tuple[str, list[str]]] = []
    for key, setting in block.settings.items():
        pattern = "/".join((*inner, key))
        items.append((key, [_setting_line(setting, pattern, defaults, depth + 1)]))
    for key in ALWAYS_SHOWN.get(block.kind, ()):
        if key not in block.settings:
            items.append((key, [f"{indent}{key} = "]))
    for child in block.blocks:
        chunk = _block_lines(child, inner, depth + 1, defaults)
        items.append((_block_key(child, block), chunk))
    body = _sorted_lines(items)
    if not body:
        return []
    head = f"{_INDENT * depth}{block.kind}"
    if block.name is not None:
        head += " " + _quote_name(block.name)
    return [head + " {", *body, _INDENT * depth + "}"]


def _setting_line(
    setting: Setting, pattern: str, defaults: DovecotDefaults, depth: int
) -> str:
    key = setting.key
    if is_secret(key) and setting.effective:
        return f"{_INDENT * depth}{key} = {HIDDEN}"
    if setting.is_file:
        return f"{_INDENT * depth}{key} = <{setting.effective}"
    value, _ = normalize(setting.effective, defaults.type_of(pattern))
    return f"{_INDENT * depth}{key} = {_quote_value(value)}"


def _quote_value(value: str) -> str:
    if value != value.strip(" \t") or "#" in value:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return value


def _quote_name(name: str) -> str:
    if any(char in name for char in ' \t#{}"'):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name
