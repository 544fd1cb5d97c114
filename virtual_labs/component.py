"""Plugs the labs (CLI, executors, seed) into the core through ``lms.components``."""

from __future__ import annotations

from flask import Flask

from lms.plugins import Component


class LabsComponent(Component):
    name = "virtual labs"
    seed_order = 20

    def init_app(self, app: Flask) -> None:
        pass

    def seed_demo(self) -> None:
        pass
