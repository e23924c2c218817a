"""Settings for every test in this repository: tests/ and each plugin's own."""

from __future__ import annotations

import os

# Every TestClient holds its app to the ASGI spec (typedasgi.testing); a test that drives a
# deliberately broken app says check_asgi=False.
os.environ.setdefault("TYPEDASGI_CHECK_ASGI", "1")
