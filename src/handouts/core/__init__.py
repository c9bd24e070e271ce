"""What every layer stands on: where client files go, the bundled resources, and
bounded reads of anything a user or client hands in.
"""

from handouts.core.files import atomic_write, output_paths, packet_name, private_dir
from handouts.core.resources import (
    examples_dir,
    library_dir,
    templates_dir,
    workbook_path,
    workbooks_dir,
)
from handouts.core.untrusted import check_file, read_bounded, shown_value

__all__ = [
    "atomic_write",
    "check_file",
    "examples_dir",
    "library_dir",
    "output_paths",
    "packet_name",
    "private_dir",
    "read_bounded",
    "shown_value",
    "templates_dir",
    "workbook_path",
    "workbooks_dir",
]
