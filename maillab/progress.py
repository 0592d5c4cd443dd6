"""Progress of long steps (image build, boot), reported to whoever renders it.

Library code never prints: it calls a `Reporter`.  The CLI draws a bar; a
notebook can show a widget or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One report from a long task.

    `message` names the stage (it changes seldom); `item` is what the stage is
    working on right now (a package name).  `done`/`total` count the work when
    its length is known.
    """

    step: str
    message: str
    done: int | None = None
    total: int | None = None
    item: str = ""


Reporter = Callable[[Progress], None]


def quiet(_: Progress) -> None:
    """A reporter that shows nothing."""
