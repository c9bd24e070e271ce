"""Allow `python -m handouts`."""

from handouts.ui.cli import run

if __name__ == "__main__":
    run()
