"""pytest plugin of the qgactor testing kit (registered through the ``pytest11`` entry point).

Fixtures are added by the testing kit (issue 8)."""
