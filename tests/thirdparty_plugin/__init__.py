"""A tiny third-party activity plugin, installed in the tests through a real entry point.

It lives outside ``lms/``, ``courses/`` and ``virtual_labs/`` and touches no core code: the
registry finds it through the ``lms.activities`` entry-point group like any installed package.
Its table is named ``test_checklists`` so the migration drift test knows to ignore it.
"""
