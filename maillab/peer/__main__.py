"""`python -m maillab.peer serve|send`: run inside the peer's network namespace."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from maillab.peer.peer import smtp_send
from maillab.peer.server import serve


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m maillab.peer")
    sub = parser.add_subparsers(dest="command", required=True)
    srv = sub.add_parser("serve")
    srv.add_argument("--dir", type=Path, required=True)
    snd = sub.add_parser("send")
    snd.add_argument("--to", required=True)
    snd.add_argument("--from", dest="mail_from", required=True)
    snd.add_argument("--rcpt", action="append", required=True)
    snd.add_argument("--helo", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.command == "serve":
        serve(args.dir)
        return 0
    try:
        replies = smtp_send(
            args.to, args.mail_from, args.rcpt, sys.stdin.buffer.read(), helo=args.helo
        )
    except Exception as exc:  # reported to the parent process, which raises
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(replies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
