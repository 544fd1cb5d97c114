"""The forum activity plugin (Moodle's mod_forum): threads, replies, Q&A, moderation, mail."""
