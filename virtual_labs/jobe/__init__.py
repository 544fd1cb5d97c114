"""A Jobe-compatible runner API: CodeRunner (Moodle) runs its questions on the lab sandbox.

``spec`` checks a request (pure), ``runner`` runs it on the labs' sandbox, slots and executors,
``keys`` issues the site admin's API keys and counts their hourly runs, ``views`` is the REST
surface at ``/jobe/index.php/restapi`` and ``admin_views`` the key management page.
"""
