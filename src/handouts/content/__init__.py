"""The content library: modules with their readers' editions, topics, the flags'
routing rules, sources and crisis lines, read and checked as data.
"""

from handouts.content.crisis import CrisisLine, default_lines
from handouts.content.flags import Flag, Rule
from handouts.content.library import Library, check_library, languages_available, load_library
from handouts.content.module import Module, Topic

__all__ = [
    "CrisisLine",
    "Flag",
    "Library",
    "Module",
    "Rule",
    "Topic",
    "check_library",
    "default_lines",
    "languages_available",
    "load_library",
]
