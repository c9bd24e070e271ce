"""handouts: psychoeducation workbooks for couples and sex therapists.

Load the library, validate a client's parameters, assemble the chosen modules, render
HTML with Jinja2 and print the PDF with WeasyPrint::

    import handouts
    profile = handouts.load_profile("examples/clients/sample-couple.yaml")
    library = handouts.load_library(profile.practice_library, profile.language)
    handout = handouts.assemble(profile, library)
    handouts.write_handout(handout, "handout.pdf")
"""

from .assemble import Handout, assemble
from .batch import BatchResult, examples_roster
from .batch import run as run_batch
from .build import build, build_handout, output_paths
from .content import Library, Module, check_library, load_library
from .errors import BuildError, HandoutsError, LibraryError, ProfileError, RenderError
from .html import render_html
from .notebook import (
    add_section,
    check_module,
    in_front_end,
    picker,
    preview_module,
    reading_grade,
    save_module,
)
from .pdf import write_handout, write_pdf
from .preview import preview
from .profile import PARAMETERS, Profile, load_profile, validate

__version__ = "0.1.0"

__all__ = [
    "BatchResult",
    "examples_roster",
    "run_batch",
    "PARAMETERS",
    "BuildError",
    "Handout",
    "HandoutsError",
    "Library",
    "LibraryError",
    "Module",
    "Profile",
    "ProfileError",
    "RenderError",
    "__version__",
    "add_section",
    "assemble",
    "build",
    "build_handout",
    "check_library",
    "check_module",
    "in_front_end",
    "load_library",
    "load_profile",
    "output_paths",
    "picker",
    "preview",
    "preview_module",
    "reading_grade",
    "render_html",
    "save_module",
    "validate",
    "write_handout",
    "write_pdf",
]
