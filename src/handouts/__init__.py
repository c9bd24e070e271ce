"""handouts: psychoeducation workbooks for couples and sex therapists.

Load the library, validate a client's parameters, assemble the chosen modules, render
HTML with Jinja2 and print the PDF with WeasyPrint::

    import handouts
    profile = handouts.load_profile("examples/clients/sample-couple.yaml")
    library = handouts.load_library(profile.practice_library, profile.language)
    handout = handouts.assemble(profile, library)
    handouts.write_pdf(handouts.render_html(handout), "handout.pdf")
"""

from .assemble import Handout, assemble
from .build import build, build_handout, output_paths
from .content import Library, Module, check_library, load_library
from .errors import BuildError, HandoutsError, LibraryError, ProfileError, RenderError
from .html import render_html
from .pdf import write_pdf
from .profile import PARAMETERS, Profile, load_profile, validate

__version__ = "0.1.0"

__all__ = [
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
    "assemble",
    "build",
    "build_handout",
    "check_library",
    "load_library",
    "load_profile",
    "output_paths",
    "render_html",
    "validate",
    "write_pdf",
]
