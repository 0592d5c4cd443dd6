"""The `maillab` command: a thin layer over the library, which does the work."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict

from rich.markup import escape

from maillab.box import Box, all_boxes
from maillab.box.layout import home
from maillab.errors import MaillabError
from maillab.remote.host import Host
from maillab.render import (
    ProgressView,
    console,
    error_console,
    monitor_table,
    render_findings,
    render_step,
    status_table,
)
from maillab.status import machine_status


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        # `maillab status --json | head`: end quietly, as Unix tools do
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MaillabError as exc:
        error_console.print(
            f"[bold red]maillab:[/] {escape(str(exc))}", highlight=False
        )
        return 1
    except KeyboardInterrupt:
        error_console.print("maillab: interrupted")
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maillab", description="A hands-on mail server lab (chapter 7.3)."
    )
    parser.add_argument("--debug", action="store_true", help="log every remote command")
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(
        name: str, func: object, help: str, target: bool = False, box: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if box:
            p.add_argument(
                "--name", default="default", help="the lab box (default: default)"
            )
        if target:
            group = p.add_mutually_exclusive_group()
            group.add_argument(
                "--host", help="a Host entry of ~/.ssh/config instead of the box"
            )
            group.add_argument(
                "--vagrant",
                metavar="DIR",
                help="a Vagrant VM (the folder of its Vagrantfile)",
            )
        p.set_defaults(func=func)
        return p

    up = command(
        "up", cmd_up, "build (once) and start the lab box, then show its status"
    )
    up.add_argument("--address", help="the box's address (default: 192.168.56.10)")
    st = command("status", cmd_status, "the machine, its services and its ports", True)
    st.add_argument("--json", action="store_true", help="print JSON")
    ssh = command("ssh", cmd_ssh, "an interactive shell on the box, as vagrant", True)
    ssh.add_argument("command", nargs=argparse.REMAINDER, help="optional command")
    run = command("run", cmd_run, "run one command on the box (after --)", True)
    run.add_argument("command", nargs=argparse.REMAINDER)
    run.add_argument("--timeout", type=float, default=300, help="seconds (default 300)")
    prov = command(
        "provision", cmd_provision, "apply the chapter's reference solution", True
    )
    group = prov.add_mutually_exclusive_group()
    group.add_argument("--until", help="up to this section, included (7.3.1 ... all)")
    group.add_argument("--section", help="this section only")
    lint = command(
        "lint", cmd_lint, "lint the lab's live files, or FILEs on disk", True
    )
    lint.add_argument("files", nargs="*", metavar="FILE", help="files on this machine")
    lint.add_argument("--format", help="the format of FILE when its name does not say")
    lint.add_argument("--json", action="store_true", help="print JSON")
    config = sub.add_parser("config", help="show a configuration file's values")
    config_sub = config.add_subparsers(metavar="ACTION")
    show = config_sub.add_parser(
        "show", help="a file's effective values, in the real tool's format"
    )
    show.add_argument("file", metavar="FILE")
    show.add_argument("--expand", action="store_true", help="postconf -nx form")
    show.add_argument("--format", help="main.cf or dovecot, when the name does not say")
    show.set_defaults(func=cmd_config_show)
    mon = command(
        "monitor", cmd_monitor, "the mail server's health (Nagios exit codes)", True
    )
    mon.add_argument("--json", action="store_true", help="print JSON")
    mon.add_argument("--no-round-trip", action="store_true", help="skip the test mail")
    peer = sub.add_parser("peer", help="the outside mail host (198.51.100.25)")
    peer.add_argument("action", choices=["start", "stop", "status"])
    peer.set_defaults(func=cmd_peer)
    command("down", cmd_down, "stop the box; its state is kept")
    command("reset", cmd_reset, "back to the fresh start-of-chapter state")
    command("destroy", cmd_destroy, "remove the box and its network (the image stays)")
    command("list", cmd_list, "every lab box on this machine", box=False)
    from maillab.grading.cli import add_commands

    add_commands(sub, command)
    return parser


def _target(args: argparse.Namespace) -> Host:
    import maillab

    if getattr(args, "host", None):
        return maillab.connect(args.host)
    if getattr(args, "vagrant", None):
        return maillab.connect(vagrant=args.vagrant)
    return maillab.connect(box=args.name)


def cmd_up(args: argparse.Namespace) -> int:
    box = Box(args.name)
    with ProgressView() as view:
        started = box.up(address=args.address, report=view.report)
    if not started:
        console.print(f"lab box {box.name!r} is already up.")
    return _show_status(box.host())


def cmd_status(args: argparse.Namespace) -> int:
    with _target(args) as host:
        status = machine_status(host)
    if args.json:
        print(json.dumps(asdict(status), indent=2))
    else:
        console.print(status_table(status))
    return 0 if status.all_active and not status.failed_units else 1


def _show_status(host: Host) -> int:
    with host:
        status = machine_status(host)
    console.print(status_table(status))
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    extra = _after_dashes(args.command)
    if getattr(args, "vagrant", None):
        os.chdir(args.vagrant)
        os.execvp(
            "vagrant", ["vagrant", "ssh", *(["-c", shlex.join(extra)] if extra else [])]
        )
    if getattr(args, "host", None):
        os.execvp("ssh", ["ssh", args.host, *extra])
    box = Box(args.name)
    box.host().close()  # a clear error if the box is absent or stopped
    config = str(box.files.ssh_config)
    os.execvp("ssh", ["ssh", "-F", config, box.files.ssh_alias, *extra])
    return 0  # not reached


def cmd_run(args: argparse.Namespace) -> int:
    words = _after_dashes(args.command)
    if not words:
        error_console.print(
            "maillab run: give the command after --, "
            "for example: maillab run -- sudo postqueue -p"
        )
        return 2
    line = words[0] if len(words) == 1 else shlex.join(words)
    with _target(args) as host:
        result = host.run(line, timeout=args.timeout)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.exit_status


def cmd_provision(args: argparse.Namespace) -> int:
    from maillab.course import provision

    changed = 0
    with _target(args) as host:
        for result in provision(host, until=args.until, section=args.section):
            render_step(result)
            changed += result.changed
    console.print(f"{changed} step(s) changed." if changed else "Nothing changed.")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from maillab.config.lint import has_errors, lint_lab, lint_paths

    if args.files:
        findings = lint_paths(args.files, format=args.format)
    else:
        with _target(args) as host:
            findings = lint_lab(host)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        render_findings(findings)
    return 1 if has_errors(findings) else 0


def cmd_config_show(args: argparse.Namespace) -> int:
    from maillab.config.show import show_file

    sys.stdout.write(show_file(args.file, expand=args.expand, format=args.format))
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from maillab.course.lab import read_lab
    from maillab.monitor import monitor

    with _target(args) as host:
        report = monitor(
            host, address=read_lab(host).ip, round_trip=not args.no_round_trip
        )
    if args.json:
        print(report.to_json())
    else:
        console.print(monitor_table(report))
    return int(report.state)


def cmd_peer(args: argparse.Namespace) -> int:
    from maillab.peer import Peer

    peer = Peer()
    if args.action == "start":
        peer.start()
    elif args.action == "stop":
        peer.stop()
    running = peer.pid is not None
    state = "running at 198.51.100.25:25" if running else "stopped"
    console.print(
        f"outside mail host: {state}; {len(peer.messages())} message(s) "
        f"in {peer.directory}/inbox"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    box = Box(args.name)
    with ProgressView() as view:
        box.down(report=view.report)
    console.print(f"lab box {box.name!r} is stopped; `maillab up` starts it again.")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    box = Box(args.name)
    with ProgressView() as view:
        box.reset(report=view.report)
    return _show_status(box.host())


def cmd_destroy(args: argparse.Namespace) -> int:
    box = Box(args.name)
    box.destroy()
    console.print(
        f"lab box {box.name!r} removed; the image cache in {home()}/images stays."
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for box in all_boxes():
        state = "running" if box.is_running else "stopped"
        console.print(f"{box.name:12} {box.address:15} {state}")
    return 0


def _after_dashes(words: Sequence[str]) -> list[str]:
    words = list(words)
    return words[1:] if words[:1] == ["--"] else words


if __name__ == "__main__":
    sys.exit(main())
