"""The `handouts` command: a thin layer over the library."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from handouts.content.library import check_library, load_library
from handouts.content.module import LIST_OF_KIND
from handouts.core.files import packet_name
from handouts.core.resources import examples_dir
from handouts.core.untrusted import plain, rich_text
from handouts.errors import HandoutsError, HarvestError
from handouts.plan.assemble import file_id_problems, plan_packets, plan_report
from handouts.plan.parameters import table
from handouts.plan.routing import flag_table
from handouts.plan.validation import load_profile
from handouts.records.harvest import client_folder
from handouts.records.harvest import forget as run_forget
from handouts.records.harvest import harvest as run_harvest
from handouts.records.progress import client_checkins, client_progress, save_chart, tables
from handouts.render.glyphs import fallbacks_needed
from handouts.render.html import environment, pages_of
from handouts.run.batch import print_summary, run_with_progress
from handouts.run.build import build_packets
from handouts.ui.cli_program import program
from handouts.ui.lab import init_folder, serve
from handouts.ui.passwords import password_from, password_options


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="handouts")
def cli() -> None:
    """Build psychoeducation handouts for couples and sex therapy clients."""


def _note(line: str) -> None:
    """Tell the therapist what a profile's flags changed (on stderr: stdout lists PDFs)."""
    click.echo(line, err=True)


@cli.command()
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output_dir", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("-w", "--workbook", default="connection", show_default=True,
              help="Bundled workbook to run.")
@click.option("--no-record", is_flag=True,
              help="Do not keep the executed notebook (it holds the client's parameters).")
@click.option("--kernel", is_flag=True,
              help="Run the workbook in a Jupyter kernel instead of the in-process engine.")
@click.option("--timeout", default=300, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds the workbook may take before it is stopped.")
@click.option("--discreet", is_flag=True,
              help="Neutral cover, header, file name and metadata (on by default under "
                   "violence-or-fear and coercion-concern).")
@click.option("--copies", type=click.Choice(["shared", "per-partner"]),
              help="per-partner: one PDF per partner, private pages only in their own "
                   "copy (overrides the profile's copies).")
@click.option("--edition", type=click.Choice(["client", "therapist"]),
              help="therapist: a session guide to the same packet, for you, never the "
                   "client (overrides the profile's edition).")
@click.option("--format", "format_", type=click.Choice(["pdf", "html", "epub"]),
              help="html: one web page for phones and screen readers, filled in and saved "
                   "in the browser; epub: an e-book (overrides the profile's format).")
@click.option("--program", "program_id", help="Follow this program (handouts program list).")
@click.option("--week", type=click.IntRange(1, 26), help="Build this week of the program.")
@password_options
def build(profile: Path, output_dir: Path, workbook: str, no_record: bool, kernel: bool,
          timeout: int, discreet: bool, copies: str | None, edition: str | None,
          format_: str | None, program_id: str | None, week: int | None,
          password_env: str | None, ask_password: bool) -> None:
    """Build one client's handout from a PROFILE (YAML) by running the workbook.

    Prints the path of every PDF written (one per language, and one per partner where a
    flag or --copies per-partner asks for it) and says on stderr what the profile's
    flags left out or brought in.
    """

    password = password_from(password_env, ask_password)
    built = build_packets(profile, output_dir, workbook, record=not no_record, kernel=kernel,
                          timeout=timeout, password=password, report=_note,
                          discreet=discreet, copies=copies, edition=edition,
                          format=format_, program=program_id, week=week)
    for pdf, _ in built:
        click.echo(pdf)


@cli.command()
@click.option("-o", "--output", "output_dir", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
def demo(output_dir: Path) -> None:
    """Build the bundled fictional example clients into OUTPUT."""

    profiles = sorted((examples_dir() / "clients").glob("*.yaml"))
    if not profiles:
        raise SystemExit("error: the bundled examples are missing from this install")
    for number, profile in enumerate(profiles, start=1):
        click.echo(f"[{number}/{len(profiles)}] building {profile.stem} ...", err=True)
        for pdf, _ in build_packets(profile, output_dir, report=_note):
            click.echo(pdf)


@cli.command()
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-j", "--jobs", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Worker processes.")
@click.option("-o", "--output", "output_dir", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--force", is_flag=True, help="Rebuild clients that are up to date.")
@click.option("-w", "--workbook", default="connection", show_default=True,
              help="Bundled workbook to run for every client.")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds one client may take before its worker is stopped.")
@click.option("--no-record", is_flag=True, help="Do not keep the executed notebooks.")
@password_options
def batch(roster: Path, jobs: int, output_dir: Path, force: bool, workbook: str,
          timeout: int, no_record: bool, password_env: str | None,
          ask_password: bool) -> None:
    """Build every client in a ROSTER (CSV or YAML), validated before any work."""

    result = run_with_progress(roster, output_dir=output_dir, jobs=jobs, force=force,
                               workbook=workbook, record=not no_record, timeout=timeout,
                               password=password_from(password_env, ask_password))
    print_summary(result)
    for failed in result.failed:  # one line each, whatever the table's width
        click.echo(f"failed: row {failed.row}: client {failed.client_id}: {failed.message}",
                   err=True)
    if result.failed:
        raise SystemExit(1)


@cli.command("library")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--language", default="en", show_default=True, help="Library language.")
@click.option("--practice-library", type=click.Path(file_okay=False, path_type=Path),
              help="A practice folder of modules that add to or override the defaults.")
def library_cmd(as_json: bool, language: str, practice_library: Path | None) -> None:
    """List the modules you can choose: id, list, minutes, language, readers, title."""

    lib = load_library(practice_library, language)
    rows = [
        {"id": m.id, "kind": m.kind, "list": LIST_OF_KIND[kind],
         "title": m.for_reader("couple").title, "minutes": m.minutes,
         "language": m.language, "audiences": list(m.audiences), "topic": m.topic}
        for kind in LIST_OF_KIND for m in lib.of_kind(kind)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(r["id"]) for r in rows)
    titles = {t.id: t.title for t in lib.topics.values()}
    for topic in sorted({r["topic"] for r in rows}, key=lambda t: (t not in titles, t)):
        click.echo(f"{titles.get(topic, topic)} (topic: {topic})")
        for r in (r for r in rows if r["topic"] == topic):
            readers = ",".join(a[0] for a in r["audiences"])  # c=couple i=individual g=group
            click.echo(f"  {r['id']:<{width}}  {r['list']:<8} {r['minutes']:>2} min  "
                       f"{r['language']}  {readers:<5}  {r['title']}")
        click.echo("")


@cli.command("flags")
@click.option("--practice-library", type=click.Path(file_okay=False, path_type=Path),
              help="A practice folder whose flags.yaml adds to or replaces the defaults.")
def flags_cmd(practice_library: Path | None) -> None:
    """Print every flag, what it leaves out or brings in, and why (Markdown)."""

    click.echo(flag_table(load_library(practice_library)))


@cli.command()
def parameters() -> None:
    """Print every parameter of a profile or workbook, with its type and help."""

    click.echo(table(), nl=False)


def _show_plan(path: Path, profile, planned) -> None:
    """Print the packets a profile asks for: file names, pages in, and what left or came."""

    click.echo(f"{path}:")
    for packet in planned:
        h = packet.handout
        copy = packet.profile.partner_copy if len(packet.profile.partners) > 1 else 0
        where = ", ".join([packet.profile.language, packet.profile.reader,
                           *(["discreet"] if packet.profile.discreet else []),
                           *([f"partner {copy}'s own copy"] if copy else [])])
        click.echo(f"  {packet.profile.session_date.isoformat()}-"
                   f"{packet_name(packet.profile, 'connection')}.{packet.profile.format} "
                   f"({where})")
        pages = [h.matter["safety"].id, *(
            f"{m.id} (a page per partner)" if len(pages_of(packet.profile, m)) > 1 else m.id
            for m in h.sections)]
        click.echo(f"    pages: {', '.join(pages)}")
    for line in plan_report(profile, planned):
        click.echo(f"  {line}")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--practice-library", type=click.Path(file_okay=False, path_type=Path),
              help="Also check a practice folder of modules.")
def check(files: tuple[Path, ...], practice_library: Path | None) -> None:
    """Validate the library, the templates and any client PROFILE files given.

    For each profile, show the plan without building: which PDFs, which pages go in, and
    which pages the profile's flags leave out or bring in, and why.
    """

    problems: list[str] = [str(p) for p in check_library(practice_library)]
    env = environment()
    for name in env.list_templates(extensions=("j2",)):
        try:
            env.get_template(name)
        except Exception as exc:  # noqa: BLE001 - any template error is a finding
            problems.append(f"{name}: template error: {exc}")
    for path in files:
        try:
            profile = load_profile(path)
            if practice_library and not profile.practice_library:
                profile = profile.model_copy(update={"practice_library": str(practice_library)})
            planned = plan_packets(profile, file=path)
            fallbacks_needed(profile)
        except HandoutsError as exc:  # and every unknown id, though another field failed
            problems += dict.fromkeys(str(p) for p in [*exc.problems, *file_id_problems(path)])
            continue
        _show_plan(path, profile, planned)
    for line in problems:
        click.echo(plain(line), err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: library, templates{f' and {len(files)} profile(s)' if files else ''}")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Create a practice folder: workbooks, an example practice.yaml, clients/."""

    for path in init_folder(folder):
        click.echo(f"created {path}")
    click.echo(f"next: edit {folder / 'practice.yaml'}, then `handouts app {folder}`")


def _serve(folder: Path, command: str, port: int, browser: bool) -> None:
    server = serve(folder, command, port=port, browser=browser)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        server.terminate()
        code = server.wait()
    if code:
        raise SystemExit(code)


@cli.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Port (default 8888).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
def lab(folder: Path, port: int, no_browser: bool) -> None:
    """Open JupyterLab on a practice folder (created on first use), local and private."""
    _serve(folder, "lab", port, not no_browser)


@cli.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Port (default 8866).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
def app(folder: Path, port: int, no_browser: bool) -> None:
    """Open the client form (Voilà) on a practice folder, local and token-protected."""
    _serve(folder, "app", port, not no_browser)


_OUTPUT = click.option("-o", "--output", "output_dir", default="output", show_default=True,
                       type=click.Path(file_okay=False, path_type=Path),
                       help="Output folder the handouts were built into.")


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@_OUTPUT
@click.option("--password-env", metavar="VAR", help="Open protected PDFs with the password "
              "in environment variable VAR.")
@click.option("--ask-password", is_flag=True, help="Ask for the password of protected PDFs.")
def harvest(files: tuple[Path, ...], output_dir: Path, password_env: str | None,
            ask_password: bool) -> None:
    """Read filled handouts (FILES) back into each client's history.

    FILES are filled PDFs, or the answers files saved from a screen edition (.json).
    """
    password = password_from(password_env, False) if password_env else (
        click.prompt("Password of the PDFs", hide_input=True, err=True) if ask_password
        else None)
    results = run_harvest(files, output_dir, password)
    for result in results:
        if result.status == "failed":
            click.echo(plain(f"failed: {result.message}"), err=True)
        else:
            click.echo(plain(f"{result.status}: {result.file} -> {result.client_id} "
                             f"({result.message})"))
    if any(r.status == "failed" for r in results):
        raise SystemExit(1)


@cli.command()
@click.argument("client_id")
@_OUTPUT
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also save the practice chart (.png, .svg or .pdf).")
def progress(client_id: str, output_dir: Path, chart: Path | None) -> None:
    """Show one client's practice days per ritual per week, and their reflections."""

    issued, rows, reflections = client_progress(output_dir, client_id)
    console = Console()
    for title, columns, body in tables(issued, rows, reflections,
                                       client_checkins(output_dir, client_id)):
        if not body:
            if title == "Days practised":
                console.print("No filled handouts harvested yet.")
            continue
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, justify="right" if column == "days" else "left")
        for row in body:  # what clients wrote is data: never markup, never escapes
            table.add_row(*map(rich_text, row))
        console.print(table)
    if chart:
        if not rows:
            raise HarvestError("nothing to chart yet: harvest a filled handout first",
                               field="--chart")
        click.echo(f"chart: {save_chart(rows, chart)}")


@cli.command()
@click.argument("client_id")
@_OUTPUT
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(client_id: str, output_dir: Path, yes: bool) -> None:
    """Remove a client's handouts, records and history from the output folder."""

    folder = client_folder(output_dir, client_id)
    if not folder.is_dir():
        raise HarvestError("no such client in the output folder", file=folder,
                           field="client_id")
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    if not yes:
        click.confirm(f"Remove {folder} and its {count} file(s) for good?", abort=True,
                      err=True)
    for line in run_forget(output_dir, client_id):
        click.echo(line)


class _Notes(logging.Handler):
    """Print handouts' notes (a folder made private, ...) as one line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"note: {record.getMessage()}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with *argv*; return the exit status instead of raising SystemExit."""
    notes = logging.getLogger("handouts")
    if not any(isinstance(h, _Notes) for h in notes.handlers):
        notes.addHandler(_Notes())
    try:
        cli.main(args=argv, prog_name="handouts", standalone_mode=False)
    except HandoutsError as exc:
        click.echo(f"error: {plain(exc)}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


cli.add_command(program)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
