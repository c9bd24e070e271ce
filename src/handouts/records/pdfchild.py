"""Read a filled PDF's keywords and form fields in a child process, within bounds.

Run as a script with the limits (JSON) as its argument by
:func:`handouts.records.filled.read_form`, with a JSON line ``{"password": ...}`` and then the
PDF's bytes on standard input; prints one JSON object. It imports nothing from
handouts, so a hostile file meets only pikepdf, the memory and CPU limits set here, and
the parent's wall-clock limit.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import resource
import sys
import zlib

_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_FLATE = (b"FlateDecode", b"Fl")
_ASCII = (b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85")
# The most a byte can become through a decoder we do not run here (LZW, run length).
_RATIO = {b"LZWDecode": 3000, b"LZW": 3000, b"RunLengthDecode": 128, b"RL": 128}
_CHUNK = 1 << 16


class Refused(Exception):
    """The file is refused; *kind* says why, for the parent's message."""

    def __init__(self, kind: str, why: str = "") -> None:
        super().__init__(kind)
        self.kind, self.why = kind, why


def _inflated(data: bytes, layers: int, budget: int) -> int:
    """Return how many bytes *layers* Flate decoders make of *data*, never past *budget*."""
    decoders = [zlib.decompressobj() for _ in range(layers)]
    total = 0

    def push(level: int, chunk: bytes) -> None:
        nonlocal total
        if level == layers:
            total += len(chunk)
            if total > budget:
                raise Refused("inflated")
            return
        decoder = decoders[level]
        while not decoder.eof:
            out = decoder.decompress(chunk, _CHUNK)
            chunk = decoder.unconsumed_tail
            push(level + 1, out)
            if not out and not chunk:
                break

    try:
        push(0, data)
    except zlib.error:
        pass  # a broken stream: what it made so far is counted
    return total


def _decode_ascii(name: bytes, data: bytes) -> bytes:
    try:
        if name in (b"ASCIIHexDecode", b"AHx"):
            hexes = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">")[0])
            return binascii.unhexlify(hexes + b"0" * (len(hexes) % 2))
        return base64.a85decode(data.split(b"~>")[0].strip(), adobe=False)
    except ValueError:
        return b""


def inflated_size(data: bytes, budget: int) -> int:
    """Return the bytes the file's streams decode to, refusing more than *budget*.

    Streams are found in the raw bytes and inflated in chunks, before the PDF is parsed:
    a PDF library decodes a whole stream (an object stream, a cross-reference stream)
    into memory at once.
    """
    total = 0
    for match in _STREAM.finditer(data):
        head = data[max(0, match.start() - 4096):match.start()]
        head = head[head.rfind(b"obj") + 1:]
        found = _FILTER.search(head)
        names = re.findall(rb"/([A-Za-z0-9]+)", found[1]) if found else []
        end = data.find(b"endstream", match.end())
        body = data[match.end():end if end >= 0 else len(data)]
        size = len(body)
        while names and names[0] in _ASCII:
            body = _decode_ascii(names.pop(0), body)
            size = len(body)
        flate = 0
        while flate < len(names) and names[flate] in _FLATE:
            flate += 1
        if flate:
            size = _inflated(body, flate, budget - total)
        if flate < len(names) and names[flate] in _RATIO:
            size *= _RATIO[names[flate]]
        total += size
        if total > budget:
            raise Refused("inflated")
    return total


def _text(value) -> str:
    """Return a PDF string as text that can be written as UTF-8 (lone surrogates: '?')."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _fields(pdf, limits: dict) -> list[list[str]]:
    """Return [name, kind, text] for every terminal field, refusing malformed trees."""
    import pikepdf  # lazy: only encrypting or reading a filled PDF needs pikepdf

    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        raise Refused("structure", "it has no form")
    fields = form.get("/Fields")
    if not isinstance(fields, pikepdf.Array):
        raise Refused("structure", "its list of form fields is not a list")
    found: dict[str, list[str]] = {}
    stack = [(field, "", 0) for field in reversed(list(fields))]
    seen: set[tuple[int, int]] = set()
    while stack:
        field, parent, depth = stack.pop()
        if len(seen) >= limits["fields"] or depth > limits["depth"]:
            raise Refused("fields")
        if not isinstance(field, pikepdf.Dictionary):
            raise Refused("structure", "a form field is not a dictionary")
        if field.is_indirect:
            if field.objgen in seen:
                raise Refused("structure", "its form fields loop back on themselves")
            seen.add(field.objgen)
        else:
            seen.add((-len(seen) - 1, 0))
        part = field.get("/T")
        if not isinstance(part, pikepdf.String) or len(str(part)) > 200:
            raise Refused("structure", "a form field has no usable name")
        name = f"{parent}.{_text(part)}" if parent else _text(part)
        kids = field.get("/Kids")
        if kids is not None and not isinstance(kids, pikepdf.Array):
            raise Refused("structure", "a form field's kids are not a list")
        named = [k for k in kids if isinstance(k, pikepdf.Dictionary) and "/T" in k] \
            if kids is not None else []
        if named:
            stack += [(k, name, depth + 1) for k in reversed(named)]
            continue
        value = field.get("/V")
        if value is None:
            continue
        if isinstance(value, pikepdf.Name):
            found[name] = [name, "name", str(value)]
        elif isinstance(value, pikepdf.String):
            found[name] = [name, "string", _text(value)[:limits["value"] + 1]]
        else:
            found[name] = [name, "other", type(value).__name__]
    return list(found.values())


def read(data: bytes, password: str, limits: dict) -> dict:
    """Return the keywords and fields of the PDF in *data*, or raise Refused."""
    import pikepdf  # lazy: only encrypting or reading a filled PDF needs pikepdf

    inflated_size(data, limits["inflated"])
    try:
        pdf = pikepdf.open(io.BytesIO(data), password=password)
    except pikepdf.PasswordError:
        raise Refused("password") from None
    except (pikepdf.PdfError, ValueError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        why = re.sub(r"^(stream <[^>]*>|[^:]*\.pdf)(, object [^:]*)?: ", "", why, flags=re.I)
        raise Refused("unreadable", why[:160]) from None
    with pdf:
        size = pdf.trailer.get("/Size")
        if not isinstance(size, int) or size > limits["objects"]:
            raise Refused("objects")
        try:
            keywords = pdf.docinfo.get("/Keywords") if pdf.docinfo else None
        except (pikepdf.PdfError, TypeError, ValueError, AttributeError):
            keywords = None
        text = _text(keywords)[:2000] if isinstance(keywords, pikepdf.String) else ""
        try:
            return {"keywords": text, "fields": _fields(pdf, limits)}
        except Refused as exc:
            return {"keywords": text, "refused": exc.kind, "why": exc.why}
        except (pikepdf.PdfError, TypeError, ValueError, AttributeError, KeyError):
            return {"keywords": text, "refused": "structure", "why": "its form cannot be read"}


def main() -> None:
    """Set the limits, read the request from standard input, print the answer."""
    limits = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["seconds"], limits["seconds"]))
    request = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read(limits["bytes"] + 1)
    try:
        answer = read(data, request.get("password") or "", limits)
    except Refused as exc:
        answer = {"refused": exc.kind, "why": exc.why}
    except MemoryError:
        answer = {"refused": "memory"}
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))


if __name__ == "__main__":
    main()
