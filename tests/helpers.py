"""Helpers for the tests: profiles on disk and PDF inspection."""

from __future__ import annotations

from pathlib import Path

import pypdf


def write_profile(folder: Path, text: str, name: str = "client.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def reader_text(module, reader: str, fillable: bool = False) -> str:
    """Return what one reader's edition of a module says: title, summary and text."""
    edition = module.for_reader(reader, fillable)
    return f"{edition.title}. {edition.summary}. {edition.plain_text()}"


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def fill_with_pypdf(src: Path, dst: Path, values: dict[str, str]) -> Path:
    """Write *values* into the form fields of *src* as pypdf does; return *dst*."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(src))
    for page in writer.pages:
        if "/Annots" in page:
            writer.update_page_form_field_values(page, values, auto_regenerate=False)
    writer.write(dst)
    return dst


def normalise(text: str) -> str:
    """Collapse whitespace and curly quotes so titles match however lines broke."""
    return " ".join(text.replace("\u2019", "'").replace("\u201c", '"')
                    .replace("\u201d", '"').split())


def embedded_fonts(path: Path) -> dict[str, bool]:
    """Map each font used in the PDF to whether its font program is embedded."""
    reader = pypdf.PdfReader(str(path))
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            fonts[str(font.get("/BaseFont"))] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    return fonts


def without_harfbuzz_subset(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """Return *env* for a process that finds no libharfbuzz-subset0, as on a bare machine.

    The dynamic loader looks in LD_LIBRARY_PATH first; a file there that is no library
    makes WeasyPrint's lookup fail just as a missing package does (.ci/run does the same).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "libharfbuzz-subset.so.0").write_text("not a library\n", encoding="utf-8")
    return {**env, "LD_LIBRARY_PATH": f"{folder}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")}


# The first words of a page that must start fresh: a new part, a partner's own page of a
# private worksheet, the cut-out cards, the back matter.
PART_STARTS = ("PRACTICES TO TRY", "CONVERSATION SCRIPTS", "Cards to cut out",
               "About this workbook", "PRÁCTICAS PARA PROBAR", "GUIONES PARA CONVERSAR",
               "Tarjetas para recortar")


def starts_fresh(text: str, names: list[str]) -> bool:
    """Return whether a page whose text is *text* must start on a fresh page."""
    head = normalise(text)[:160]
    return (any(head.startswith(s) for s in PART_STARTS)
            or any(f"For {n}" in head or f"Para {n}" in head for n in names))


def couple_form(folder: Path, client_id: str, names: tuple[str, str], session_date: str,
                topics: str, flags: str):
    """Return the form app on a new practice *folder*, filled in for two partners."""
    from handouts.ui.form import Form  # the form needs ipywidgets, an optional extra
    from handouts.ui.lab import init_folder

    init_folder(folder)
    form = Form(folder)
    form.client_id.value = client_id
    form.partner_rows[0][0].value = names[0]
    form.add_partner(names[1])
    form.session_date.value = session_date
    form.topics.value = topics
    form.flags.value = flags
    return form
