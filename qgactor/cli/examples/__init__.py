"""Example sources that ``qgactor init`` copies into a new project (read as package data with
:mod:`importlib.resources`, so an installed qgactor has them too). They are real modules, so
the repository's own project imports them instead of keeping a second copy."""
