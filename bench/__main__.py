"""`make bench`: run every benchmark, print a table, merge figures into bench/results.json.

`python -m bench build scheduler` runs only the modules named."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import build, cli, content_load, feeds, ledger, newsletter, scheduler

RESULTS = Path(__file__).parent / "results.json"
MODULES = {
    module.__name__.removeprefix("bench."): module
    for module in (cli, content_load, newsletter, feeds, ledger, scheduler, build)
}


def main() -> None:
    # The commands are timed as on a user's machine, where Python keeps the compiled bytecode of
    # commsflow's modules: a shell that turns that off would time compiling every module each run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    workdir = Path(tempfile.gettempdir()) / "commsflow-bench"
    figures: dict[str, float | str | None] = {}  # None: not measured (a reason is stored alongside)
    rows: list[tuple[str, str, str]] = []
    unknown = [name for name in sys.argv[1:] if name not in MODULES]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    for module in [MODULES[name] for name in sys.argv[1:]] or MODULES.values():
        found, shown = module.run(workdir)
        figures.update(found)
        rows += shown
    table = Table(title="commsflow benchmarks", header_style="bold")
    for column in ("measure", "result", "target"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored.update({key: round(value, 4) if isinstance(value, float) else value for key, value in figures.items()})
    RESULTS.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    print(f"figures written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
