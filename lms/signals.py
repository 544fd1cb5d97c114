"""Learning events as blinker signals, sent inside the transaction that caused them.

Core's domain and progress services send them; progress, certificates, the ledger, xAPI and
skills subscribe. They live in core so that every feature package can send or hear them
without importing another. Handlers run at once,
in the same request or task, and must flush (never commit).

Events recorded together (a worker storing a batch of graded labs) share a ``memo`` dict, sent
with each of them: a receiver keeps there what holds for the whole batch (an activity's skill
outcomes, whether it has LTI links), keyed by its package's name, instead of asking again.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the app; kwargs: user, course, enrolment, method
enrolled = _signals.signal("enrolled")
#: sender: the app; kwargs: user, activity, event ("viewed"|"submitted"|"graded"), grade, details,
#: memo
activity_event = _signals.signal("activity-event")
#: sender: the app; kwargs: user, activity, completion (ActivityCompletion), memo
activity_completed = _signals.signal("activity-completed")
#: sender: the app; kwargs: user, course, completion (CourseCompletion)
course_completed = _signals.signal("course-completed")
#: sender: the app; kwargs: user, course, completion (CourseCompletion)
course_failed = _signals.signal("course-failed")
#: sender: the app; kwargs: user, program, assignment
program_completed = _signals.signal("program-completed")
