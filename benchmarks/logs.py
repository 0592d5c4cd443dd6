"""Parse time of a ~200k-line mail.log (the fixture, replicated) vs pflogsumm's.

Needs pflogsumm on this machine (Debian: apt-get install pflogsumm).
Prints the figures and the ratio; asserts nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from maillab.logs import messages, parse_mail_log, summary

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "logs" / "mail.log"
TARGET_LINES = 200_000


def large_log() -> str:
    lines = FIXTURE.read_text().splitlines(keepends=True)
    copies = TARGET_LINES // len(lines) + 1
    return "".join(lines * copies)


def timed(step: str, work):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    print(f"{step:<28} {elapsed:8.2f} s")
    return result, elapsed


def main() -> int:
    text = large_log()
    print(f"log: {len(text.splitlines()):,} lines, {len(text) / 1e6:.1f} MB")
    frame, parse = timed("parse_mail_log", lambda: parse_mail_log(text))
    _, total = timed("summary", lambda: summary(frame))
    timed("messages", lambda: messages(frame))
    if shutil.which("pflogsumm") is None:
        print("pflogsumm is not installed: apt-get install pflogsumm")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".log") as file:
        file.write(text)
        file.flush()
        command = ["pflogsumm", file.name]
        _, theirs = timed(
            "pflogsumm",
            lambda: subprocess.run(command, check=True, capture_output=True),
        )
    ours = parse + total
    print(f"parse + summary / pflogsumm: {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
