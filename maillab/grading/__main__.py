"""`python -m maillab.grading check|grade|validate ...`, until maillab.cli wires them.

The `command` helper here mirrors the one inside maillab.cli's `_parser()`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rich.markup import escape

from maillab.errors import MaillabError
from maillab.grading.cli import add_commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m maillab.grading")
    parser.add_argument("--debug", action="store_true")
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(
        name: str, func: object, help: str, target: bool = False, box: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if box:
            p.add_argument("--name", default="default", help="the lab box")
        if target:
            group = p.add_mutually_exclusive_group()
            group.add_argument("--host", help="a Host entry of ~/.ssh/config")
            group.add_argument("--vagrant", metavar="DIR", help="a Vagrant VM")
        p.set_defaults(func=func)
        return p

    add_commands(sub, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from maillab.render import error_console

    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    if not hasattr(args, "func"):
        _parser().print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MaillabError as exc:
        error_console.print(f"[bold red]maillab:[/] {escape(str(exc))}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
