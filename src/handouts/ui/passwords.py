"""The password options of the commands that write PDFs: from an environment variable or
asked for, never echoed and never recorded."""

from __future__ import annotations

import os

import click

from handouts.errors import ProfileError


def password_options(command):
    command = click.option(
        "--ask-password", is_flag=True,
        help="Ask for a password to protect the PDF (AES-256); it is never recorded.",
    )(command)
    return click.option(
        "--password-env", metavar="VAR",
        help="Protect the PDF with the password in environment variable VAR.",
    )(command)


def password_from(password_env: str | None, ask_password: bool) -> str:
    """Return the password the options ask for ('' for none); never echo it."""

    if password_env:
        value = os.environ.get(password_env, "")
        if not value:
            raise ProfileError(f"environment variable {password_env} is not set or empty",
                               field="--password-env")
        return value
    if ask_password:
        value = click.prompt("Password for the PDF", hide_input=True,
                             confirmation_prompt=True, err=True)
        if not value:
            raise ProfileError("the password is empty", field="--ask-password")
        return value
    return ""
