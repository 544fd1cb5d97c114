"""RFC 5545 iCalendar text for deadline events (pure: escaping, folding, the document)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Event:
    """One deadline in a calendar; times are naive UTC like everywhere in the app."""

    uid: str
    at: datetime
    title: str
    course: str
    kind: str  # "due", "cutoff", "closes", "program"
    url: str = ""

    @property
    def label(self) -> str:
        """The kind of date, in words."""
        return {"due": "Due", "cutoff": "Last chance (cut-off)", "closes": "Closes",
                "program": "Program deadline"}.get(self.kind, self.kind.capitalize())  # fmt: skip


def escape(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma and line breaks."""
    text = (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += ch
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, events: Iterable[Event], now: datetime) -> str:
    """The whole VCALENDAR document."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//EduCluster//Deadlines//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}",
             "REFRESH-INTERVAL;VALUE=DURATION:PT6H"]  # fmt: skip
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape(e.uid)}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(e.at)}",
            f"DTEND:{_stamp(e.at)}",
            f"SUMMARY:{escape(f'{e.label}: {e.title}')}",
            f"DESCRIPTION:{escape(f'{e.course}. {e.url}'.strip())}",
        ]
        if e.url:
            lines.append(f"URL:{escape(e.url)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
