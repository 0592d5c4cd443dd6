"""Parse time of a generated Dovecot tree with includes (figures only).

.venv/bin/python benchmarks/config_dovecot.py [--files N] [--settings M]
"""

from __future__ import annotations

import argparse
import time

from maillab.config.dovecot import parse_dovecot
from maillab.config.dovecot_defaults import load_dovecot_defaults
from maillab.config.dovecot_format import format_doveconf_n
from maillab.config.dovecot_lint import lint_dovecot

DEFAULTS = "tests/fixtures/config/dovecot/debian12-defaults"


def generated_tree(files: int, settings: int) -> dict[str, str]:
    """A dovecot.conf including `files` conf.d files of `settings` lines each."""
    tree = {"/etc/dovecot/dovecot.conf": "!include conf.d/*.conf\n"}
    for number in range(files):
        lines = [f"# generated file {number}", f"service svc{number} {{"]
        lines += [
            f"  unix_listener sock{i} {{\n    mode = 0600\n  }}" for i in range(3)
        ]
        lines.append("}")
        lines += [
            f'login_greeting = "greeting {i} # {number}"' for i in range(settings)
        ]
        lines.append(f"protocols = $protocols p{number}")
        tree[f"/etc/dovecot/conf.d/{number:03d}-gen.conf"] = "\n".join(lines) + "\n"
    return tree


def time_parse(files: int = 100, settings: int = 200, rounds: int = 5) -> None:
    """Print the best parse, lint and format times over `rounds` runs."""
    tree = generated_tree(files, settings)
    defaults = load_dovecot_defaults(DEFAULTS)
    size = sum(len(text) for text in tree.values())
    timings = {"parse": [], "lint": [], "format": []}  # type: dict[str, list[float]]
    for _ in range(rounds):
        start = time.perf_counter()
        config = parse_dovecot(files=tree, defaults=defaults)
        timings["parse"].append(time.perf_counter() - start)
        start = time.perf_counter()
        lint_dovecot(config, defaults=defaults)
        timings["lint"].append(time.perf_counter() - start)
        start = time.perf_counter()
        format_doveconf_n(config, defaults)
        timings["format"].append(time.perf_counter() - start)
    lines = sum(text.count("\n") for text in tree.values())
    print(f"tree: {len(tree)} files, {lines} lines, {size / 1024:.0f} KiB")
    for step, values in timings.items():
        best = min(values)
        print(f"{step:>6}: {best * 1000:8.1f} ms  ({lines / best:,.0f} lines/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--settings", type=int, default=200)
    args = parser.parse_args()
    time_parse(args.files, args.settings)


if __name__ == "__main__":
    main()
