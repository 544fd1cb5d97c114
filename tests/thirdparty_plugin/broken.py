"""A plugin whose import fails, as a third-party package with a missing dependency would."""

import educluster_no_such_dependency  # noqa: F401

from lms.plugins import ActivityType


class BrokenType(ActivityType):
    key = "broken"
