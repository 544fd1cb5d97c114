"""The course blueprint (catalog, authoring, co-design, enrolment, import/export) and the lesson
and quiz activity plugins."""
