"""Terminal output shared by the command groups: one Rich console, progress bars, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)

STAGE_LABELS = {
    "resolve": "Resolving places",
    "stage": "Preparing records",
    "write": "Writing records",
    "read": "Reading rows",
}


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Any]:
    """Yield a ``progress(stage, done, total)`` callback that draws one Rich bar per stage.

    Bars go to stderr so that ``--json`` output on stdout stays machine-readable.
    """
    if not enabled:
        yield lambda *_: None
        return
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False,
    ) as bars:  # fmt: skip

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(STAGE_LABELS.get(stage, stage.capitalize()), total=total or 1)
            bars.update(tasks[stage], completed=done, total=total or 1)

        yield progress


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error in red on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (UTF-8, not ASCII-escaped, so Persian stays readable)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
