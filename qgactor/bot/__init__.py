"""qgactor.bot."""

__all__: list[str] = []
