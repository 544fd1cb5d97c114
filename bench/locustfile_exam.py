"""Locust users for ``bench/load.py``: each learner sits the exam once, then stops.

Log in, open the course, open the timed quiz, start it, answer every question, submit, open
the lab, submit a solution and poll its result until it is graded. Step names are numbered so
the table reads in journey order; "graded after" is the time from the lab submission to its
graded result (a failure past ``LOAD_GRADE_SECONDS``). Configured by ``bench/load.py`` through
the environment (``LOAD_*``); not meant to be run on its own.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time

import gevent
from locust import HttpUser, events, task
from locust.exception import StopUser

COURSE = os.environ.get("LOAD_COURSE", "exam-course")
QUIZ = int(os.environ.get("LOAD_QUIZ", "0"))
LAB = int(os.environ.get("LOAD_LAB", "0"))
USERS = int(os.environ.get("LOAD_USERS", "300"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
GRADE_SECONDS = float(os.environ.get("LOAD_GRADE_SECONDS", "60"))
RATE = float(os.environ.get("LOAD_RATE", "1.25"))  # learners arriving per second
SOLUTION = "a, b = map(int, input().split())\nprint(a + b)\n"
_numbers = itertools.count()
_finished = itertools.count(1)
_first_arrival: list[float] = []

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_INPUT = re.compile(r'<input[^>]*type="(radio|checkbox|text)"[^>]*>')
_NAME = re.compile(r'name="([^"]+)"')
_VALUE = re.compile(r'value="([^"]*)"')


def _token(html: str) -> str:
    match = _CSRF.search(html)
    return match[1] if match else ""


def _answers(html: str) -> dict[str, str]:
    """The first choice of every choice question, "1" in every text field."""
    answers: dict[str, str] = {}
    for match in _INPUT.finditer(html):
        tag = match[0]
        name = _NAME.search(tag)
        if name is None or name[1] in ("csrf_token", "auto_submit"):
            continue
        if match[1] == "text":
            answers.setdefault(name[1], "1")
        else:
            value = _VALUE.search(tag)
            answers.setdefault(name[1], value[1] if value else "")
    return answers


class Learner(HttpUser):
    """One learner of the exam cohort."""

    def think(self) -> None:
        gevent.sleep(random.uniform(0.5, 2.0))

    def step(self, method: str, path: str, name: str, expect: int, **kw):
        with self.client.request(
            method, path, name=name, catch_response=True, allow_redirects=False, **kw
        ) as response:
            if response.status_code != expect:
                response.failure(f"HTTP {response.status_code}, expected {expect}")
            return response

    @task
    def sit_the_exam(self) -> None:
        """The whole journey once; then this user stops."""
        number = next(_numbers)
        if number >= USERS:
            # Locust may start a user again after one stopped: each account sits the exam once.
            raise StopUser()
        # Locust starts every user at once; each waits for its own arrival time, so learners
        # arrive at RATE per second whatever Locust does with stopped users meanwhile.
        if not _first_arrival:
            _first_arrival.append(time.monotonic())
        gevent.sleep(max(0.0, _first_arrival[0] + number / RATE - time.monotonic()))
        try:
            self.journey(f"exam{number}@load.test")
        finally:
            if next(_finished) >= USERS:
                # The last learner is done: stop once the statistics have taken its figures.
                gevent.spawn_later(2.0, self.environment.runner.quit)
        raise StopUser()

    def journey(self, email: str) -> None:
        form = self.step("GET", "/auth/login", "01 login form", 200)
        answer = self.step(
            "POST", "/auth/login", "02 log in", 302,
            data={"email": email, "password": PASSWORD, "csrf_token": _token(form.text)},
        )  # fmt: skip
        if answer.status_code != 302:
            return
        self.think()
        self.step("GET", f"/courses/{COURSE}", "03 course page", 200)
        self.think()
        quiz = self.step("GET", f"/courses/{COURSE}/activities/{QUIZ}", "04 quiz page", 200)
        started = self.step(
            "POST", f"/quiz/{QUIZ}/start", "05 start quiz", 302,
            data={"csrf_token": _token(quiz.text)},
        )  # fmt: skip
        location = started.headers.get("Location", "")
        if "/attempt/" not in location:
            return
        attempt = re.sub(r"^https?://[^/]+", "", location)
        page = self.step("GET", attempt, "06 attempt page", 200, headers={})
        self.think()
        self.think()
        data = {**_answers(page.text), "csrf_token": _token(page.text), "auto_submit": "0"}
        self.step("POST", f"{attempt}/submit", "07 submit quiz", 302, data=data)
        self.think()
        lab = self.step("GET", f"/courses/{COURSE}/activities/{LAB}", "08 lab page", 200)
        self.think()
        sent = self.step(
            "POST", f"/labs/{LAB}/submissions", "09 submit lab", 202,
            data={"csrf_token": _token(lab.text), "kind": "submit", "file:main.py": SOLUTION},
            headers={"Accept": "application/json"},
        )  # fmt: skip
        if sent.status_code != 202:
            return
        submitted = time.monotonic()
        status_url = sent.json()["json_url"]
        while True:
            gevent.sleep(1.0)
            status = self.step("GET", status_url, "10 lab result (poll)", 200)
            done = status.status_code == 200 and status.json().get("done")
            waited = time.monotonic() - submitted
            if done or waited > GRADE_SECONDS + 30:
                break
        late = (
            None if done and waited <= GRADE_SECONDS else f"not graded within {GRADE_SECONDS:g} s"
        )
        events.request.fire(
            request_type="LAB",
            name="11 graded after (submit -> result)",
            response_time=waited * 1000,
            response_length=0,
            exception=Exception(late) if late else None,
            context={},
        )
