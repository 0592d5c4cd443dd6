"""Terminal rendering for the CLI (rich): progress bars and status tables."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar
from rich.table import Table

from maillab.progress import Progress
from maillab.status import MachineStatus

console = Console()
error_console = Console(stderr=True)

_STATE_STYLE = {"active": "green", "failed": "bold red", "inactive": "yellow"}


class ProgressView:
    """Shows `Progress` reports: a live bar on a terminal, plain lines elsewhere."""

    def __init__(self) -> None:
        self.live = console.is_terminal
        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, int] = {}
        self._last = ""

    def __enter__(self) -> ProgressView:
        if self.live:
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live:
            self._bar.stop()

    def report(self, event: Progress) -> None:
        if not self.live:
            self._plain(event)
            return
        task = self._tasks.get(event.step)
        if task is None:
            task = self._tasks[event.step] = self._bar.add_task(
                event.message, total=event.total
            )
        self._bar.update(
            task,
            description=event.message[:60],
            total=event.total,
            completed=event.done or 0,
        )
        if event.done is None and event.step in ("box", "boot"):
            console.print(f"  {event.message}")

    def _plain(self, event: Progress) -> None:
        # Off a terminal, print each stage once, not every package.
        if (
            event.done is not None
            and not event.message[:1].isupper()
            and event.done != event.total
            and "build" not in event.message
        ):
            return
        if event.message != self._last:
            console.print(f"[{event.step}] {event.message}", highlight=False)
            self._last = event.message


def status_table(status: MachineStatus) -> Table:
    table = Table(
        title=f"{status.hostname} ({', '.join(status.addresses)})", title_justify="left"
    )
    table.add_column("service")
    table.add_column("state")
    table.add_column("listening on")
    ports: dict[str, list[str]] = {}
    for listener in status.listeners:
        ports.setdefault(listener.process, []).append(
            f"{listener.address}:{listener.port}"
        )
    process_of = {
        "ssh": "sshd",
        "postfix": "master",
        "spamd": "spamd",
        "apache2": "apache2",
        "named": "named",
        "dovecot": "dovecot",
        "opendkim": "opendkim",
    }
    for name, state in status.services.items():
        where = sorted(set(ports.pop(process_of.get(name, name), [])))
        style = _STATE_STYLE.get(state, "yellow")
        table.add_row(name, f"[{style}]{state}[/]", " ".join(where))
    for process, where in sorted(ports.items()):
        table.add_row(f"({process})", "", " ".join(sorted(set(where))))
    if status.failed_units:
        table.caption = "failed units: " + ", ".join(status.failed_units)
    return table
