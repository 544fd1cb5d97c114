"""Plugs the course blueprint into the core through the ``lms.components`` entry point."""

from __future__ import annotations

from flask import Flask

from lms.plugins import Component


class CoursesComponent(Component):
    name = "courses"
    seed_order = 10

    def init_app(self, app: Flask) -> None:
        pass

    def seed_demo(self) -> None:
        pass
