"""What was issued and what came back: records that never lose a line, the issued
handout, filled PDFs harvested into history, and progress.
"""

from handouts.records.harvest import forget, load_history, record_issued
from handouts.records.issue import write_handout
from handouts.records.progress import client_progress, since_last_time

__all__ = [
    "client_progress",
    "forget",
    "load_history",
    "record_issued",
    "since_last_time",
    "write_handout",
]
