"""What several test files share: helpers (plain functions, constants) and fixtures.

A test file imports from here (or from the older helper modules beside it: ``helpers``,
``factories``, ``api_support``, ``import_support``, ``clocked``), never from another test file;
the fixtures of ``support.fixtures`` are registered for the whole suite by tests/conftest.py."""
