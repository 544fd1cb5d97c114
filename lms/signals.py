"""Learning events as blinker signals, sent inside the transaction that caused them.

Core's domain and progress services send them; progress, certificates, the ledger, xAPI and
skills subscribe. They live in core so that every feature package can send or hear them
without importing another. Handlers run at once,
in the same request or task, and must flush (never commit).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the app; kwargs: user, course, enrolment, method
enrolled = _signals.signal("enrolled")
#: sender: the app; kwargs: user, activity, event ("viewed"|"submitted"|"graded"), grade, details
activity_event = _signals.signal("activity-event")
#: sender: the app; kwargs: user, activity, completion (ActivityCompletion)
activity_completed = _signals.signal("activity-completed")
#: sender: the app; kwargs: user, course, completion (CourseCompletion)
course_completed = _signals.signal("course-completed")
#: sender: the app; kwargs: user, course, completion (CourseCompletion)
course_failed = _signals.signal("course-failed")
#: sender: the app; kwargs: user, program, assignment
program_completed = _signals.signal("program-completed")
