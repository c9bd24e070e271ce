"""handouts: psychoeducation workbooks for couples and sex therapists.

The pipeline a notebook needs: validate a client's parameters, load the library,
assemble the chosen modules for the reader, write the PDF, preview it::

    import handouts
    profile = handouts.load_profile("examples/clients/sample-couple.yaml")
    library = handouts.load_library(profile.practice_library or None, profile.language)
    handout = handouts.assemble(profile, library)
    handouts.write_handout(handout, "handout.pdf")
    handouts.preview("handout.pdf")

Workbooks use :func:`start`, which does the first three steps for the run's parameters.
From the shell, ``handouts build`` and ``handouts batch`` run the workbooks.
"""


from handouts.content.library import Library, load_library
from handouts.content.module import Module
from handouts.core.files import output_paths
from handouts.core.version import __version__
from handouts.errors import BuildError, HandoutsError, LibraryError, ProfileError, RenderError
from handouts.errors import install_one_line_errors as show_errors_plainly
from handouts.plan.assemble import Handout, assemble
from handouts.plan.profile import PARAMETERS, Profile
from handouts.plan.validation import load_profile, validate
from handouts.records.issue import write_handout
from handouts.render.html import render_html
from handouts.render.pdf import write_pdf
from handouts.render.preview import preview
from handouts.run.notebook import Session, add_section, start
from handouts.run.picker import picker

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
    "Session",
    "__version__",
    "add_section",
    "assemble",
    "load_library",
    "load_profile",
    "output_paths",
    "picker",
    "preview",
    "render_html",
    "show_errors_plainly",
    "start",
    "validate",
    "write_handout",
    "write_pdf",
]
