"""Parse and lint times of the config parsers on large generated files.

    .venv/bin/python benchmarks/config.py

Prints figures; asserts nothing.  No lab box needed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from config_dovecot import time_parse  # benchmarks/ is the script's folder

from maillab.config.postfix_main import (
    effective,
    lint_main_cf,
    parse_main_cf,
    parse_postconf,
)

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures" / "config"
LINES = 10_000


def main_cf(lines: int) -> str:
    """A main.cf of `lines` lines: entries, continuations, comments, $names."""
    out = []
    for n in range(lines // 5):
        out += [
            f"# parameter group {n}",
            f"user_param_{n} = $myhostname ${{mydomain}} value{n}",
            f"smtpd_banner = $user_param_{n} ESMTP",
            "mydestination = $myhostname,",
            f"    localhost.$mydomain, d{n}.example",
        ]
    return "\n".join(out) + "\n"


def best_of(action: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    text = main_cf(LINES)
    defaults = parse_postconf(
        (FIXTURES / "postfix" / "postconf-d-debian12.txt").read_text()
    )
    conf = parse_main_cf(text)
    figures = {
        "parse_main_cf": lambda: parse_main_cf(text),
        "lint_main_cf": lambda: lint_main_cf(conf, defaults=defaults),
        "postconf -nx view": lambda: effective(conf, defaults).postconf_nx(),
    }
    print(f"main.cf of {text.count(chr(10))} lines, {len(text)} bytes")
    for name, action in figures.items():
        best, median = best_of(action)
        print(
            f"  {name:<20} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms"
        )
    # The Dovecot tree with includes (benchmarks/config_dovecot.py has options).
    time_parse()


if __name__ == "__main__":
    main()
