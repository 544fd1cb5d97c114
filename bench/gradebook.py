"""Benchmark the gradebook at several course sizes, in one run, and print a table.

For N learners × M graded activities (quizzes with a grade per learner in every activity), on a
temporary SQLite file, it measures one page of the trainer's grid (50 learners), the whole
gradebook (the CSV/XLSX export and the completion engine's course totals) and one learner's own
grades: the SQL statements per call (a ``before_cursor_execute`` listener; they must not grow with
N or M) and the median wall time, with the ratio to the smallest size measured in the same run.

Usage: ``python bench/gradebook.py [--sizes 100x5 2000x5 2000x40] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event, insert  # noqa: E402


def build(path: str, learners: int, activities: int):
    """A fresh app with one course of ``activities`` quizzes and ``learners`` graded learners."""
    os.environ["LMS_INSTANCE_PATH"] = os.path.dirname(path)
    from lms import create_app
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        from courses.quiz.models import Quiz
        from lms.domain.models import Course, Enrolment, Module
        from lms.models import User
        from lms.progress.models import ActivityCompletion

        db.create_all()
        course = Course(slug="bench", title="Bench", status="published")
        db.session.add(course)
        db.session.flush()
        module = Module(course_id=course.id, title="M", position=0)
        db.session.add(module)
        db.session.flush()
        quizzes = [Quiz(course_id=course.id, module_id=module.id, title=f"Quiz {i}", position=i,
                        completion_rule="passed", weight=1.0 + i % 3, question_keys=[])
                   for i in range(activities)]  # fmt: skip
        db.session.add_all(quizzes)
        db.session.flush()
        db.session.execute(insert(User), [
            {"email": f"l{i}@bench.test", "name": f"Learner {i:05d}", "password_hash": "x"}
            for i in range(learners)
        ])  # fmt: skip
        ids = [u for (u,) in db.session.execute(db.select(User.id).order_by(User.id))]
        db.session.execute(insert(Enrolment), [
            {"user_id": uid, "course_id": course.id, "status": "active", "method": "self"}
            for uid in ids
        ])  # fmt: skip
        db.session.execute(insert(ActivityCompletion), [
            {"user_id": uid, "activity_id": q.id, "course_id": course.id, "attempts": 1,
             "grade": float((uid * 7 + q.id * 13) % 101), "completed": True, "failed": False,
             "override_reason": ""}
            for uid in ids for q in quizzes
        ])  # fmt: skip
        db.session.commit()
        return app, course.id, ids[0]


def measure(app, course_id: int, learner_id: int, repeat: int) -> dict[str, tuple[int, float]]:
    from lms.domain.models import Course
    from lms.extensions import db
    from lms.gradebook.queries import build_gradebook, learners_statement

    results = {}
    with app.test_request_context():
        course = db.session.get(Course, course_id)
        page_ids = list(db.session.scalars(learners_statement(course_id).limit(50)))
        calls = {
            "Grid page (50 learners)": lambda: build_gradebook(course, page_ids),
            "Whole gradebook (export, totals)": lambda: build_gradebook(course, None),
            "A learner's own grades": lambda: build_gradebook(course, [learner_id], True),
        }
        for label, call in calls.items():
            count = [0]

            def listener(*_args, count=count, **_kw):
                count[0] += 1

            event.listen(db.engine, "before_cursor_execute", listener)
            call()
            event.remove(db.engine, "before_cursor_execute", listener)
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            results[label] = (count[0], statistics.median(times))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100x5", "2000x5", "2000x40"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = {}
    for size in args.sizes:
        learners, activities = (int(x) for x in size.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            app, course_id, learner = build(os.path.join(tmp, "bench.db"), learners, activities)
            table[size] = measure(app, course_id, learner, args.repeat)
    base = args.sizes[0]
    print(
        f"\nGradebook on SQLite: median of {args.repeat} calls; ratio to {base} (N learners x M activities)"
    )
    header = f"{'call':36} {'size':>9} {'SQL':>5} {'ms':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for label in table[base]:
        for size in args.sizes:
            sql, seconds = table[size][label]
            ratio = seconds / table[base][label][1]
            print(f"{label:36} {size:>9} {sql:>5} {seconds * 1000:9.1f} {ratio:7.2f}")
    print()


if __name__ == "__main__":
    main()
