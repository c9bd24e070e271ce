"""Render a Handout to HTML with Jinja2 templates and markdown-it-py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import sys
from functools import cache
from pathlib import Path
from types import MappingProxyType

import jinja2
from babel.dates import format_date
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from handouts.core.resources import (
    FALLBACK_RANGES,
    SYSTEM_FAMILIES,
    TEXT_FAMILIES,
    emoji_font,
    font_files,
    load_yaml,
    templates_dir,
)
from handouts.core.untrusted import MAX_LOGO_BYTES, check_file
from handouts.core.version import __version__
from handouts.errors import RenderError
from handouts.plan.assemble import Handout
from handouts.plan.guide import Guide
from handouts.render.glyphs import coverage, fallbacks_needed, mark_cjk_language

# Quotation marks as each language prints them (double, then single or inner).
QUOTES = {"en": "\u201c\u201d\u2018\u2019", "es": "\u00ab\u00bb\u201c\u201d"}


@cache
def _trusted_markdown(language: str = "en") -> MarkdownIt:
    # Library content is ours, but raw HTML is still off: Markdown is the only markup.
    return MarkdownIt("commonmark", {"html": False, "typographer": True,
                                     "quotes": QUOTES.get(language, QUOTES["en"])}).enable(
        ["replacements", "smartquotes"]
    )


@cache
def _untrusted_markdown(language: str = "en") -> MarkdownIt:
    # Client-supplied text: no HTML, no links or images (nothing to fetch or follow).
    # maxNesting above the profile's 10-level quote limit, so no client text is dropped.
    md = MarkdownIt("commonmark", {"html": False, "typographer": True, "maxNesting": 40,
                                   "quotes": QUOTES.get(language, QUOTES["en"])})
    md.enable(["replacements", "smartquotes"])
    md.disable(["image", "link", "autolink", "html_inline", "html_block", "reference"])
    return md


def markdown(text: str, language: str = "en") -> Markup:
    """Render trusted library Markdown to HTML, with *language*'s quotation marks."""
    return Markup(_trusted_markdown(language).render(text or ""))  # noqa: S704 - HTML is off


def markdown_inline(text: str, language: str = "en") -> Markup:
    """Render one line of trusted library Markdown without a paragraph wrapper."""
    return Markup(_trusted_markdown(language).renderInline(text or ""))  # noqa: S704


# Emoji get their own font through a span: with the emoji font in the general font
# stack, Pango would draw plain digits with it too.
_EMOJI_RUN = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u200D\uFE0F"
                        "\u20E3\U000E0020-\U000E007F]+")
_PICTOGRAPH = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")
_TAG = re.compile(r"(<[^>]*>)")


def _wrap_emoji(text: str) -> str:
    if _EMOJI_RUN.search(text) and emoji_font() is None:  # left out, with a note (glyphs)
        drawn = coverage(TEXT_FAMILIES[0]) | coverage(TEXT_FAMILIES[1])
        return re.sub(r" {2,}", " ", _EMOJI_RUN.sub(
            lambda m: "" if any(ord(c) not in drawn for c in _PICTOGRAPH.findall(m.group(0)))
            else m.group(0), text))
    return _EMOJI_RUN.sub(
        lambda m: f'<span class="emoji">{m.group(0)}</span>'
        if _PICTOGRAPH.search(m.group(0)) else m.group(0), text)


def client_text(text: str) -> Markup:
    """Escape one line of client text, marking emoji (for the emoji font) and Japanese or
    Korean runs (for their glyph shapes)."""
    return Markup(_wrap_emoji(mark_cjk_language(str(escape(text or "")))))  # noqa: S704


def client_markdown(text: str, language: str = "en") -> Markup:
    """Render untrusted client Markdown (the personal note): escaped, nothing fetched."""
    html = _untrusted_markdown(language).render(text or "")
    parts = _TAG.split(html)  # emoji are marked in text only, never inside a tag
    marked = "".join(p if p.startswith("<") else _wrap_emoji(mark_cjk_language(p, text))
                     for p in parts)
    return Markup(marked)  # noqa: S704 - rendered with HTML off, then only our spans added


def _finalize(value: object) -> object:
    if value is None:
        raise RenderError("a template printed a missing value (None)", field="template")
    return value


def environment(extra_templates: str | Path | None = None) -> jinja2.Environment:
    """Return the Jinja environment: autoescape always on, undefined names are errors.

    One environment per template folder and process, so each template is compiled once
    (and a batch worker's forked children inherit them compiled); Jinja still reloads a
    template whose file changed.
    """
    return _environment(str(extra_templates) if extra_templates else "")


# How the templates are compiled (with autoescape always on); compiled code kept between
# processes is named after them.
_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True}


@cache
def _environment(extra_templates: str) -> jinja2.Environment:
    search = [extra_templates] if extra_templates else []
    search.append(str(templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=True,  # forced on for every template, whatever its name
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        bytecode_cache=_bytecode_cache(),
        **_OPTIONS,
    )
    for name, render in (("markdown", markdown), ("markdown_inline", markdown_inline),
                         ("client_markdown", client_markdown)):
        env.filters[name] = _in_language(render)
    env.filters["client_text"] = client_text
    env.filters["names_list"] = names_list
    env.globals["writers_of"] = writers_of
    env.globals["pages_of"] = pages_of
    return env


def names_list(names, joiner: str) -> str:
    """Join names as a reader writes a list: "Ren, Ali y Joss" (the joiner only before the last)."""
    names = [str(n) for n in names]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"


def writers_of(profile, worksheet_id: str, you: str) -> list[dict]:
    """Return who writes on a worksheet: each partner's number (its form fields') and name.

    One reader writes as themselves (or "you"); a couple or group, every partner, or only
    the ``participants`` the profile names for this worksheet, keeping their numbers.
    In one partner's own copy of a couple or group packet (``partner_copy``), only that
    partner writes, under their own number.
    """
    names = profile.names
    if profile.reader == "individual":
        return [{"k": 1, "name": names[0] if len(names) == 1 else you}]
    chosen = profile.participants.get(worksheet_id)
    return [{"k": k, "name": name} for k, name in enumerate(names, start=1)
            if (not chosen or name in chosen)
            and profile.partner_copy in (0, k)]


def pages_of(profile, worksheet) -> list:
    """Return the profile each page of *worksheet* is written for, one per page.

    A private worksheet in a packet several partners share gets a page per partner,
    each as if in that partner's own copy; any other worksheet, one page.
    """
    if not worksheet.private or profile.partner_copy or profile.reader == "individual":
        return [profile]
    return [profile.model_copy(update={"partner_copy": w["k"], "copies": "per-partner"})
            for w in writers_of(profile, worksheet.id, "")]


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates; a file it cannot read or write is skipped."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - unreadable or torn: compile afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Return a cache of compiled templates shared by this user's processes, or None.

    Compiling the templates took about 0.1 s of every build, batch worker and kernel.
    Jinja keeps the code in its private per-user folder (created 0700, refused if anyone
    else owns it) and recompiles a template whose text changed; the file names carry
    Jinja's, Python's and this package's versions and the options above, so code
    compiled differently is never loaded.
    """

    tag = hashlib.sha256(repr((__version__, jinja2.__version__, sys.version,
                               sorted(_OPTIONS.items())))
                         .encode()).hexdigest()[:12]
    try:
        return _QuietBytecodeCache(pattern=f"__handouts_{tag}_%s.cache")
    except (RuntimeError, OSError):  # no private folder to be had: compile every time
        return None


def _in_language(render):
    """Make a Markdown filter use the handout's language (its quotation marks)."""

    @jinja2.pass_context
    def language_filter(context, text):
        return render(text, getattr(context.get("p"), "language", "en"))

    return language_filter


def labels(language: str) -> dict[str, str]:
    """Return the template's fixed words (headings, labels) for *language*."""
    return dict(_labels(language))


@cache
def _labels(language: str) -> MappingProxyType:
    # Read once per process: parsing the file cost about 30 ms a handout.
    path = templates_dir() / "labels.yaml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    return MappingProxyType({**data["en"], **data.get(language, {})})


def font_faces(fallbacks: list[str] | tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Return @font-face descriptors for the text fonts and *fallbacks*, as file URLs."""
    faces = []
    for family, files in font_files((*TEXT_FAMILIES, *fallbacks)).items():
        for path, weight, style in files if family not in SYSTEM_FAMILIES else ():
            # A variable font serves both weights the templates use.
            ranges = ", ".join(f"U+{lo:X}-{hi:X}" for lo, hi in FALLBACK_RANGES.get(family, []))
            for w in [weight] if weight else [400, 700]:
                faces.append({"family": family, "url": path.as_uri(), "weight": str(w),
                              "style": style, "range": ranges})
    return faces


@cache
def save_script() -> Markup:
    """Return the screen edition's one script (saving and reopening answers)."""
    text = (templates_dir() / "screen-save.js").read_text(encoding="utf-8")
    return Markup(text)  # noqa: S704 - our own file, never client text


def script_hash() -> str:
    """Return the Content-Security-Policy source that lets only :func:`save_script` run."""
    digest = hashlib.sha256(str(save_script()).encode("utf-8")).digest()
    return f"sha256-{base64.b64encode(digest).decode('ascii')}"


def answers_file(profile) -> str:
    """Return the name the browser saves a screen edition's answers under: a date, never
    a name (a partner's own copy adds its number)."""
    copy = f"-partner-{profile.partner_copy}" if profile.partner_copy else ""
    return f"{profile.session_date.isoformat()}-answers{copy}.json"


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def readable_on_white(colour: str) -> str:
    """Return *colour* (``#rrggbb``), darkened until text in it reads on white (WCAG AA,
    contrast 4.5:1): a practice's pale accent still makes legible headings on a screen."""
    while 1.05 / (_luminance(colour) + 0.05) < 4.5:
        colour = "#" + "".join(f"{int(int(colour[i:i + 2], 16) * 0.9):02x}" for i in (1, 3, 5))
    return colour


_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
                ".jpeg": "image/jpeg"}


def data_uri(path: Path) -> str:
    """Return the image at *path* as a ``data:`` URI (a screen edition fetches nothing)."""
    data = path.read_bytes()[:MAX_LOGO_BYTES + 1]
    kind = _IMAGE_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def long_date(value: dt.date, language: str) -> str:
    """Format *value* the way *language* writes dates (CLDR data, through Babel)."""

    return format_date(value, format="long", locale=language)


TEMPLATES = ("handout", "quick")


SCREENS = ("", "html", "epub")


def render_html(handout: Handout, extra_templates: str | Path | None = None,
                template: str = "handout", since: list | None = None,
                screen: str = "", weeks: list | None = None) -> str:
    """Render *handout* with *template* (``handout`` or ``quick``) to an HTML document.

    *since* holds last time's practice rows for the "Since last time" page (see
    :func:`handouts.records.progress.since_last_time`); it is shown only when the profile asks.
    *screen* is ``html`` or ``epub`` for the screen editions (:mod:`handouts.render.screen`):
    the same pages with the screen stylesheet, landmarks and, in ``html``, fields to fill
    in; empty for print. *weeks* holds a program's weeks so far
    (:func:`handouts.records.programs.weeks_so_far`).
    """
    if template not in TEMPLATES:
        raise RenderError(f"unknown template {template!r}", field="template", choices=TEMPLATES)
    if screen not in SCREENS:
        raise RenderError(f"unknown screen edition {screen!r}", field="format",
                          choices=SCREENS[1:])
    if screen and template != "handout":
        raise RenderError(f"the {template} template prints PDF only", field="format",
                          choices=("pdf",))
    since = since if handout.profile.since_last_time else None
    return _render(template, handout, extra_templates, since=since, screen=screen,
                   weeks=weeks)


def render_guide(guide: Guide, extra_templates: str | Path | None = None) -> str:
    """Render the therapist's guide (:mod:`handouts.plan.guide`) to an HTML document."""
    return _render("guide", guide, extra_templates, since=None)


def _render(template: str, h: Handout | Guide, extra_templates: str | Path | None,
            since: list | None, screen: str = "", weeks: list | None = None) -> str:
    profile = h.profile
    logo = Path(profile.practice_logo) if profile.practice_logo else None
    if logo is not None:
        check_file(logo, MAX_LOGO_BYTES, RenderError, "logo file", field="practice_logo")
    if logo is not None and logo.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg"):
        raise RenderError("logo must be an SVG, PNG or JPEG file", file=logo,
                          field="practice_logo", choices=(".svg", ".png", ".jpg", ".jpeg"))
    try:
        jinja_template = environment(extra_templates).get_template(f"{template}.html.j2")
        t = labels(profile.language)
        fallbacks = fallbacks_needed(profile)
        return jinja_template.render(
            # Our own family names, never client text: safe to print into the CSS unescaped.
            fallback_stack=Markup("".join(  # noqa: S704
                f'"{f}", ' for f in fallbacks if f != "Noto Color Emoji")),
            template_name=template,
            h=h,
            p=profile,
            t=t,
            session_date=long_date(profile.session_date, profile.language),
            accent="#444444" if profile.ink_saver else profile.accent_color,
            text_accent=readable_on_white(profile.accent_color),
            fonts=[] if screen else font_faces(fallbacks),
            logo_url=(data_uri(logo) if screen else logo.as_uri()) if logo else "",
            since=since,
            weeks=weeks,
            screen=screen,
            # Fields to fill in: the PDF's when fillable, always in the web page, never
            # in an e-book (its readers have no way to save them).
            fill=profile.fillable if not screen else screen == "html",
            stylesheet="screen.css.j2" if screen else "handout.css.j2",
            save_script=save_script() if screen == "html" else "",
            script_hash=script_hash() if screen == "html" else "",
            answers_file=answers_file(profile),
        )
    except jinja2.TemplateError as exc:
        name = getattr(exc, "filename", None) or getattr(exc, "name", None) or template
        line = getattr(exc, "lineno", None)
        field = f"line {line}" if line else "template"
        raise RenderError(f"template error: {exc}", file=name, field=field) from None
