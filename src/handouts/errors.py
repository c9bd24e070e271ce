"""The one exception family: every message says which file, which field, what is valid."""

from __future__ import annotations

import sys
from collections.abc import Iterable


class HandoutsError(Exception):
    """Base class for every error handouts raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: object | None = None,
        field: str | None = None,
        choices: Iterable[str] | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.choices = sorted(choices) if choices is not None else None
        self.problems: list[HandoutsError] = [self]  # every problem found with this one
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.field) if p)
        text = f"{where}: {self.message}" if where else self.message
        if self.choices is not None:
            text += f" (valid: {', '.join(self.choices) if self.choices else 'none'})"
        return text


class LibraryError(HandoutsError):
    """A content module or the library itself is invalid."""


class ProfileError(HandoutsError):
    """A client profile, practice file or parameter is invalid."""


class RenderError(HandoutsError):
    """A template or the PDF renderer failed."""


class BuildError(HandoutsError):
    """Executing a workbook failed."""


def install_one_line_errors(shell: object | None = None) -> None:
    """Show handouts' own errors as one sentence, without a traceback, in IPython.

    Used in the workbooks (JupyterLab, papermill's kernel) and by the in-process engine.
    The cell still fails, so Run All and papermill stop there.
    """
    if shell is None:
        try:
            # lazy: IPython is there only inside a notebook or the warm engine
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return

    def one_sentence(self, etype, value, tb, tb_offset=None):
        if not isinstance(value, HandoutsError):
            history = self.user_ns.get("In") or [""]
            if not history[-1].lstrip().startswith(PARAMETERS_MARK):
                return self.showtraceback((etype, value, tb), tb_offset=tb_offset)
            # An unquoted value in the parameters cell (client_id = c-12) is a NameError.
            value = HandoutsError(f"{value}; {QUOTES_HINT}", file="parameters cell")
            etype = HandoutsError
        stb = [f"{etype.__name__}: {value}"]
        self._showtraceback(etype, value, stb)
        return stb

    shell.set_custom_exc((HandoutsError, NameError), one_sentence)
    if not getattr(shell.showsyntaxerror, "handouts_plain", False):
        shell.showsyntaxerror = _plain_syntax_error(shell, shell.showsyntaxerror)


def _plain_syntax_error(shell, show):
    """Wrap IPython's syntax-error display: one sentence for the parameters cell.

    IPython shows a cell that does not compile through ``showsyntaxerror``, never through
    the custom handler; the cell still fails, so Run All stops there.
    """

    def plain(filename=None, running_compiled_code=False):
        history = shell.user_ns.get("In") or [""]
        etype, value, _ = sys.exc_info()
        if not (isinstance(value, SyntaxError)
                and history[-1].lstrip().startswith(PARAMETERS_MARK)):
            return show(filename, running_compiled_code)
        error = HandoutsError(f"line {value.lineno}: {value.msg}; {QUOTES_HINT}",
                              file="parameters cell")
        shell._showtraceback(HandoutsError, error, [f"HandoutsError: {error}"])

    plain.handouts_plain = True
    return plain


PARAMETERS_MARK = "# Parameters of this handout"  # first line of every parameters cell
QUOTES_HINT = 'put text in quotes, like "Sam" or "c-12", and close every bracket'


class HarvestError(HandoutsError):
    """A filled PDF that cannot be read back, or a client history that cannot be used."""


class BatchError(HandoutsError):
    """A roster is invalid; the message lists every problem, one per line."""
