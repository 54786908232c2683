"""qgactor.config."""

__all__: list[str] = []
