"""``MutableHeaders(raw=...)`` writes through to the list it is given: a tuple (or any other iterable) would be copied."""

from typedasgi.datastructures import MutableHeaders


def mark(raw: tuple[tuple[bytes, bytes], ...]) -> None:
    MutableHeaders(raw=raw)["x-marked"] = "1"  # E: arg-type: Argument "raw" to "MutableHeaders" has incompatible type ## reportArgumentType: cannot be assigned to parameter "raw"
