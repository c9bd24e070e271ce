"""One client's packet, decided before anything is drawn: the validated profile, the
route its concerns take, the assembled handouts and the render key of each.
"""

from handouts.plan.assemble import Handout, Packet, plan_packets
from handouts.plan.profile import Profile, load_profile, read_profile, validate
from handouts.plan.renderkey import RenderKey, render_key
from handouts.plan.routing import packets, route

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
