"""The ``citydip`` command: a thin layer over the library, one sub-command group per capability.

Each capability module owns its commands (``<capability>/commands.py``); this module only wires them
together and holds the few commands that span capabilities (``demo``, ``stats``, ``init``).
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="citydip",
    help="CityDiplomacy Observatory: registry, assessment and network analytics of city diplomacy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# --- capability command groups (one line each; keep this block sorted) -------------------------
# --- end of capability command groups ----------------------------------------------------------


def main() -> None:
    """Entry point used by ``python -m citydiplomacy``."""
    app()


if __name__ == "__main__":
    main()
