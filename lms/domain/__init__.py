"""The shared course domain: courses, partners, modules, the Activity base, enrolments."""
