"""The assignment activity plugin (Moodle's mod_assign, Open edX's open response assessment)."""
