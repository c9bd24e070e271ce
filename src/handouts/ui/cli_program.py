"""`handouts program ...`: list the programs, confirm a gate in a client's records."""

from __future__ import annotations

import json
from pathlib import Path

import click

from handouts.content.library import load_library
from handouts.records.programs import advance as run_advance


def program_rows(practice_library: Path | None = None) -> list[dict]:
    """Return every program as id, title, number of weeks and gates (the week each opens)."""
    library = load_library(practice_library, "en")
    rows = []
    for program in sorted(library.programs.values(), key=lambda p: p.id):
        rows.append({
            "id": program.id,
            "title": {"en": program.title.en, "es": program.title.get("es")},
            "weeks": len(program.weeks),
            "gates": [{"opens_week": week, "confirm": gate.text.en}
                      for week, gate in sorted(program.gates().items())],
        })
    return rows


@click.group("program")
def program() -> None:
    """Multi-week programs: list them, confirm a gate for a client."""


_LIBRARY = click.option("--practice-library", type=click.Path(file_okay=False, path_type=Path),
                        help="A practice folder whose programs/ add to or override the "
                             "defaults.")


@program.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_LIBRARY
def list_cmd(as_json: bool, practice_library: Path | None) -> None:
    """List the programs: id, title, weeks, and the weeks that wait for a gate."""
    rows = program_rows(practice_library)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['id']}  ({row['weeks']} weeks)  {row['title']['en']}")
        for gate in row["gates"]:
            click.echo(f"    gate before week {gate['opens_week']}: {gate['confirm']}")


@program.command("advance")
@click.argument("client_id")
@click.option("-o", "--output", "output_dir", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Output folder the client's handouts are built into.")
@click.option("--program", "program_id", help="The program (default: the client's latest).")
@click.option("--week", type=click.IntRange(1, 26),
              help="The week the confirmed gate opens (default: the next week).")
@_LIBRARY
def advance_cmd(client_id: str, output_dir: Path, program_id: str | None, week: int | None,
                practice_library: Path | None) -> None:
    """Record in CLIENT_ID's records that you confirmed the gate before the next week."""
    click.echo(run_advance(output_dir, client_id, program_id, week,
                           str(practice_library) if practice_library else None))
