"""qgactor.emulator."""

__all__: list[str] = []
