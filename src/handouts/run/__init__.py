"""Running the workbooks: one client (papermill, or the warm in-process engine), a
caseload in forked workers, and the notebook session a workbook starts.
"""

from handouts.run.build import build_packets
from handouts.run.notebook import Session, add_section, start
from handouts.run.picker import picker

__all__ = ["Session", "add_section", "build_packets", "picker", "start"]
