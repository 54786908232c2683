"""qgactor.plugins."""

__all__: list[str] = []
