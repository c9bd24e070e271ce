"""The doors people use: the ``handouts`` command, the JupyterLab practice folder and
the client form app.
"""

from handouts.ui.cli import main
from handouts.ui.form import show
from handouts.ui.lab import init_folder, serve

__all__ = ["init_folder", "main", "serve", "show"]
