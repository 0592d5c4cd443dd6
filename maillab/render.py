"""Terminal rendering for the CLI (rich): progress bars and status tables."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as Bar
from rich.table import Table

from maillab.config.findings import Finding
from maillab.course.step import StepResult
from maillab.monitor import Report as MonitorReport
from maillab.progress import Progress
from maillab.remote.listeners import Listener
from maillab.status import MachineStatus

console = Console()
error_console = Console(stderr=True)

# The process that holds a service's sockets, where it is not the unit's name.
_PROCESS_OF = {"ssh": "sshd", "postfix": "master"}
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
        self._tasks: dict[str, TaskID] = {}
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
        if event.message != self._last:
            self._last = event.message
            if not self.live or event.total is None:
                console.print(
                    f"[{event.step}] {event.message}", markup=False, highlight=False
                )
        if not self.live or event.total is None:
            return
        task = self._tasks.get(event.step)
        if task is None:
            task = self._tasks[event.step] = self._bar.add_task("", total=event.total)
        text = f"{event.message} {event.item}".strip()
        self._bar.update(
            task, description=text[:50], total=event.total, completed=event.done or 0
        )


def status_table(status: MachineStatus) -> Table:
    table = Table(
        title=f"{status.hostname} ({', '.join(status.addresses)})", title_justify="left"
    )
    table.add_column("service")
    table.add_column("state")
    table.add_column("listening on")
    unclaimed = list(status.listeners)
    for name, state in status.services.items():
        process = _PROCESS_OF.get(name, name)
        mine = [s for s in unclaimed if process in s.processes]
        unclaimed = [s for s in unclaimed if s not in mine]
        style = _STATE_STYLE.get(state, "yellow")
        table.add_row(name, f"[{style}]{state}[/]", _endpoints(mine))
    others: dict[str, list[Listener]] = {}
    for listener in unclaimed:
        others.setdefault(listener.process, []).append(listener)
    for process, listeners in sorted(others.items()):
        table.add_row(f"({process})", "", _endpoints(listeners))
    if status.failed_units:
        table.caption = "failed units: " + ", ".join(status.failed_units)
    return table


def _endpoints(listeners: list[Listener]) -> str:
    shown = []
    for s in listeners:
        address = f"[{s.address}]" if ":" in s.address else s.address
        shown.append(f"{address}:{s.port}")
    return " ".join(sorted(set(shown), key=lambda e: (int(e.rsplit(":", 1)[1]), e)))


def render_step(result: StepResult) -> None:
    """One provisioning step: what it changed, or that it was already done."""
    step = result.step
    if not result.changed:
        console.print(
            f"[dim]{step.id:24} unchanged[/]  {escape(step.title)}", soft_wrap=True
        )
        return
    console.print(
        f"[green]{step.id:24} changed[/]    {escape(step.title)}", soft_wrap=True
    )
    for change in result.changes:
        console.print(f"  - {escape(change)}", highlight=False)


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def render_findings(findings: list[Finding]) -> None:
    """Findings grouped by file, errors first within each file."""
    if not findings:
        console.print("[green]No problem found.[/]")
        return
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    order = {"error": 0, "warning": 1, "info": 2}
    for file, items in sorted(by_file.items()):
        console.print(f"[bold]{escape(file)}[/]")
        for f in sorted(items, key=lambda f: (order[f.severity], f.line or 0)):
            style = _SEVERITY_STYLE[f.severity]
            where = f"{f.line}:" if f.line else "-:"
            console.print(
                f"  {where:6} [{style}]{f.severity}[/] {escape(f.message)}",
                highlight=False,
                soft_wrap=True,
            )
            console.print(
                f"          fix: {escape(f.fix)}", highlight=False, soft_wrap=True
            )
    counts = {s: sum(f.severity == s for f in findings) for s in order}
    console.print(", ".join(f"{n} {s}(s)" for s, n in counts.items()))


_MONITOR_STYLE = {
    "OK": "green",
    "WARNING": "yellow",
    "CRITICAL": "bold red",
    "UNKNOWN": "magenta",
}


def monitor_table(report: MonitorReport) -> Table:
    table = Table(
        title=f"{report.host} ({report.address}): {report.state.name}",
        title_justify="left",
    )
    table.add_column("check")
    table.add_column("state")
    table.add_column("detail")
    for item in report.items:
        style = _MONITOR_STYLE[item.state.name]
        table.add_row(item.name, f"[{style}]{item.state.name}[/]", escape(item.detail))
    return table
