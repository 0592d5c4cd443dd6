"""A machine's report for a student: rich text in a terminal, HTML in Jupyter."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from maillab.grading.result import CheckResult, LabReport, Status

_ORDER = (Status.FAILED, Status.ERROR, Status.BLOCKED, Status.PASSED)
_STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "red",
    Status.BLOCKED: "yellow",
    Status.ERROR: "magenta",
}
_LABEL = {
    Status.PASSED: "réussi",
    Status.FAILED: "à corriger",
    Status.BLOCKED: "bloqué",
    Status.ERROR: "non vérifié",
}


def _shown(result: CheckResult, instructor: bool) -> tuple[str, str]:
    """The title and message a reader may see (hidden checks stay vague)."""
    if result.is_hidden and not instructor:
        return "Vérification cachée", "" if result.status is Status.PASSED else "—"
    message = result.message
    if result.status is Status.FAILED and result.section:
        message += f" (relire : {result.section})"
    if instructor:
        message = f"{message}\n{result.detail}".strip()
    return result.title, message


@dataclass
class ReportView:
    """A LabReport, readable in a terminal (`render`) and a notebook cell."""

    report: LabReport
    instructor: bool = False

    def render(self) -> Group:
        parts: list[Table | Text] = [Text(self.summary(), style="bold")]
        for status in _ORDER:
            results = self.report.by_status(status)
            if results:
                parts.append(self._table(status, results))
        return Group(*parts)

    def _table(self, status: Status, results: list[CheckResult]) -> Table:
        table = Table(
            title=f"{_LABEL[status]} ({len(results)})",
            title_style=_STYLE[status],
            title_justify="left",
            expand=False,
        )
        table.add_column("check")
        table.add_column("points", justify="right")
        table.add_column("message")
        for r in results:
            title, message = _shown(r, self.instructor)
            table.add_row(
                f"{r.id} — {title}", f"{r.points:g}/{r.max_points:g}", message
            )
        return table

    def summary(self) -> str:
        r = self.report
        if r.unreachable:
            return f"{r.student}: machine injoignable, pas de note ({r.unreachable})"
        counts = ", ".join(
            f"{len(r.by_status(s))} {_LABEL[s]}" for s in _ORDER if r.by_status(s)
        )
        return f"{r.student}: {r.points:g}/{r.max_points:g} points — {counts}"

    def text(self, width: int = 120) -> str:
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(self.render())
        return console.export_text()

    def _repr_html_(self) -> str:
        return render_html(self.report, instructor=self.instructor, page=False)


def render_html(
    report: LabReport, *, instructor: bool = False, page: bool = True
) -> str:
    """The feedback page of one student; hidden checks show no detail."""
    view = ReportView(report, instructor)
    rows = []
    for status in _ORDER:
        for r in report.by_status(status):
            title, message = _shown(r, instructor)
            rows.append(
                f'<tr class="{status}"><td>{html.escape(r.id)}</td>'
                f"<td>{html.escape(title)}</td><td>{_LABEL[status]}</td>"
                f"<td>{r.points:g}/{r.max_points:g}</td>"
                f"<td>{html.escape(message)}</td></tr>"
            )
    body = (
        f"<h2>{html.escape(view.summary())}</h2>"
        '<table class="maillab"><tr><th>id</th><th>vérification</th><th>état</th>'
        "<th>points</th><th>message</th></tr>" + "".join(rows) + "</table>"
    )
    if not page:
        return body
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(report.student)}</title><style>"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
        ".passed{background:#e8f5e9}.failed{background:#ffebee}"
        ".blocked{background:#fff8e1}.error{background:#f3e5f5}"
        f"</style></head><body>{body}</body></html>"
    )
