"""Platform roles to EduCluster roles: a pure function, and the only place that decides.

Only context (course) roles count. Institution and system roles (Administrator, a platform's
site admin) grant nothing here: a launch never makes anyone more than an instructor of that
platform course or a learner in it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import LtiRole

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR_ROLES = {
    MEMBERSHIP + "Instructor",
    "Instructor",  # the short form older platforms send
}
LEARNER_ROLES = {MEMBERSHIP + "Learner", "Learner"}
SUB_ROLE_PREFIXES = {
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#": LtiRole.INSTRUCTOR,
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#": LtiRole.LEARNER,
}


def map_roles(roles: Iterable[object]) -> LtiRole:
    """The EduCluster role for a launch's roles claim (instructor wins over learner)."""
    found = set()
    for role in roles:
        if not isinstance(role, str):
            continue
        if role in INSTRUCTOR_ROLES:
            found.add(LtiRole.INSTRUCTOR)
        elif role in LEARNER_ROLES:
            found.add(LtiRole.LEARNER)
        else:
            for prefix, mapped in SUB_ROLE_PREFIXES.items():
                if role.startswith(prefix):
                    found.add(mapped)
    if LtiRole.INSTRUCTOR in found:
        return LtiRole.INSTRUCTOR
    if LtiRole.LEARNER in found:
        return LtiRole.LEARNER
    return LtiRole.NONE
