"""qgactor.console."""

__all__: list[str] = []
