"""One client's packet, decided before anything is drawn: the validated profile, the
route its concerns take, the assembled handouts and the render key of each.
"""

from handouts.plan.assemble import Handout, Packet, plan_packets
from handouts.plan.profile import Profile
from handouts.plan.reading import read_profile
from handouts.plan.renderkey import RenderKey, render_key
from handouts.plan.routing import packets, route
from handouts.plan.validation import load_profile, validate

__all__ = [
    "Handout",
    "Packet",
    "Profile",
    "RenderKey",
    "load_profile",
    "packets",
    "plan_packets",
    "read_profile",
    "render_key",
    "route",
    "validate",
]
