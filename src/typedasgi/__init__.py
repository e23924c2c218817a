"""typedasgi: a typed, protocol-first ASGI framework and toolkit with plugin hooks."""

__version__ = "0.1.0"
