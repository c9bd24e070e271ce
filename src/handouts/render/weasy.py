"""Import WeasyPrint quickly, and make this process's WeasyPrint faster (same output)."""

from __future__ import annotations

import ctypes.util
import logging
import os
import re
import struct
import subprocess
import sys

from handouts.render import lines


def _quiet_logs() -> None:
    # fontTools logs every subset font at INFO: a papermill run would print hundreds.

    for name in ("fontTools", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.WARNING)
    weasy_log = logging.getLogger("weasyprint")
    if not any(isinstance(f, _FontToolsSubsetter) for f in weasy_log.filters):
        weasy_log.addFilter(_FontToolsSubsetter())


class _FontToolsSubsetter:
    """Drop WeasyPrint's warning, once per font per PDF, that fontTools subsets the fonts.

    Without libharfbuzz-subset0 WeasyPrint 70 subsets with fontTools (a dependency,
    pinned for it): the same PDF, only slower. The warning told the therapist nothing
    they could act on in a handout, and buried any real one.
    """

    def filter(self, record) -> bool:
        return not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset")


def import_weasyprint():
    """Import WeasyPrint, answering its library lookups from one ``ldconfig -p`` listing.

    WeasyPrint tries several names for each of its seven libraries, and ctypes answers
    every miss by running ldconfig, gcc and ld: about 50 processes and 0.3 s at every
    process start. The names it finally loads (``libpango-1.0.so.0`` ...) are found as
    before; if anything goes wrong, the import is simply done the usual way.
    """
    if "weasyprint" in sys.modules:
        _quiet_logs()
        _prepare()  # imported by someone else first (a notebook, the benchmark)
        return sys.modules["weasyprint"]
    _quiet_logs()  # before the import: WeasyPrint logs while parsing its own stylesheets

    lookup = ctypes.util.find_library
    listing = _ldconfig_listing() if sys.platform.startswith("linux") else None
    if listing is not None:
        ctypes.util.find_library = lambda name: _soname(listing, name)
    try:
        import weasyprint  # lazy: WeasyPrint takes about a second to load; only a render needs it
    except Exception:  # noqa: BLE001 - fall back to WeasyPrint's own lookups
        for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
            del sys.modules[name]
        ctypes.util.find_library = lookup
        import weasyprint  # lazy: WeasyPrint takes about a second to load; only a render needs it
    finally:
        ctypes.util.find_library = lookup
    _prepare()
    return weasyprint


def _prepare() -> None:
    """Make this process's WeasyPrint faster without changing what it prints (once)."""
    if not lines.installed():
        _known_glyph_arrays()
        lines.install()


def _known_glyph_arrays(longest: int = 4096) -> None:
    """Give cffi the glyph-array types WeasyPrint asks for when it subsets a font.

    ``Font._harfbuzz_subset`` (WeasyPrint 70) makes ``ffi.new(f"hb_codepoint_t[{n}]")``
    with *n* the font's last glyph used, so nearly every font of every handout names a
    new C type, which cffi parses with pycparser: about 3 ms each, 30-40 ms a handout.
    The types themselves cost microseconds to make; longer arrays are parsed as before.
    """
    try:
        # lazy: WeasyPrint takes about a second to load; only a render needs it
        from weasyprint.text.ffi import ffi

        parsed, backend = ffi._parsed_types, ffi._backend
        pointer = backend.new_pointer_type(ffi.typeof("hb_codepoint_t"))
        for n in range(1, longest + 1):
            key = f"hb_codepoint_t[{n}]"
            if key not in parsed:
                parsed[key] = (backend.new_array_type(pointer, n), False)
    except Exception:  # noqa: BLE001 - cffi or WeasyPrint changed: they parse as before
        return


def _ldconfig_listing() -> bytes | None:
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        try:
            return subprocess.run([ldconfig, "-p"], capture_output=True, check=True,
                                  timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def _soname(listing: bytes, name: str) -> str | None:
    """Find lib<name> for this machine's ABI in *listing*, as ctypes.util does."""

    bits = "-32" if struct.calcsize("l") == 4 else "-64"
    abi = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
           "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}.get(
        os.uname().machine + bits, "libc6")
    found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}"), listing)
    return os.fsdecode(found.group(1)) if found else None
