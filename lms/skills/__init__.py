"""Skills: frameworks of skills with proficiency scales, outcomes of courses and activities,
import/export (ESCO and Moodle CSV), search and suggestion."""
