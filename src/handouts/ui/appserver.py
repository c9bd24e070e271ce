"""Voilà for the client form, with every route behind the token (``handouts app``).

Voilà itself serves its static files, templates, themes, lab extensions and any picture
in the practice folder (``/voila/files/``, a progress chart included) to anyone who asks,
opens the browser on a URL without the token (a login page) and takes the token on its
command line, where every local user can read it. This server puts each of its routes
but login and logout behind the token (a request without it is redirected to the login
page or refused, with nothing served), opens and prints a URL that carries the token,
and takes the token from the environment.

Run as ``python -m handouts.ui.appserver NOTEBOOK [voila options]`` with the token in
``JUPYTER_TOKEN`` (see :func:`handouts.ui.lab.serve`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import webbrowser
from html import escape
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from voila.app import Voila

TOKEN_ENV = "JUPYTER_TOKEN"  # noqa: S105 - the variable's name, not a token


class _TokenRequired:
    """Refuse a request whose user is unknown (no token, no login cookie): 403."""

    async def prepare(self, *args, **kwargs):
        result = super().prepare(*args, **kwargs)
        if result is not None and hasattr(result, "__await__"):
            result = await result
        # JupyterHandler.prepare may already have redirected to the login page.
        if not self._finished and self.current_user is None:
            raise web.HTTPError(403)
        return result


class _PlainErrors:
    """Answer an error with its status alone (Jupyter's error page needs a static path
    this server does not have)."""

    def write_error(self, status_code: int, **kwargs) -> None:
        self.finish()


def gated(handler: type) -> type:
    """Return *handler* made to need the token (a JupyterHandler, so it reads the cookie)."""
    bases = (handler,) if issubclass(handler, JupyterHandler) else (JupyterHandler, handler)
    if getattr(handler, "write_error", None) in (JupyterHandler.write_error,
                                                 web.RequestHandler.write_error):
        bases = (_PlainErrors, *bases)
    return type(handler.__name__, (_TokenRequired, *bases), {})


class PrivateVoila(Voila):
    """Voilà with every route but login and logout behind the token."""

    def init_handlers(self) -> list:
        """Return Voilà's handlers, each but the identity provider's made to need the token."""
        open_routes = {route[1] for route in self.identity_provider.get_handlers()}
        routes = []
        for pattern, handler, *options in super().init_handlers():
            routes.append((pattern, handler if handler in open_routes else gated(handler),
                           *options))
        return routes

    @property
    def display_url(self) -> str:
        """Return the URL that logs the therapist in: the app's address with the token."""
        return f"{self._url(self.ip or 'localhost')}?token={self.identity_provider.token}"

    def launch_browser(self) -> None:
        """Open the browser on the URL with the token (through a private file, as Jupyter
        does, so the token stays off the browser's command line)."""

        try:
            browser = webbrowser.get(self.browser or None)
        except webbrowser.Error as exc:
            self.log.warning("No web browser found: %s.", exc)
            return
        fd, name = tempfile.mkstemp(suffix=".html")  # 0600
        url = escape(self.display_url, quote=True)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url={url}">'
                     f'<p><a href="{url}">Open the client form</a></p>\n')
        threading.Thread(target=browser.open, args=(Path(name).as_uri(),),
                         kwargs={"new": self.webbrowser_open_new}).start()


def main(argv: list[str] | None = None) -> None:
    """Start the private Voilà with the token from the environment (never from argv)."""
    token = os.environ.pop(TOKEN_ENV, "")  # the kernels need not inherit it
    if not token:
        sys.exit(f"error: set {TOKEN_ENV} to the app's token")
    PrivateVoila.launch_instance(argv if argv is not None else sys.argv[1:], token=token)


if __name__ == "__main__":
    main()
