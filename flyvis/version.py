"""Version of the flyvis package (mirrors the flyvis 1.2.0 public API)."""

__version__ = "1.2.0"
version_tuple = (1, 2, 0)
