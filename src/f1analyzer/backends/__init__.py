"""Small shared backend interfaces, each with an embedded default and a production option.

- ``cache``: :class:`~f1analyzer.backends.cache.MemoryCache` (default) or
  :class:`~f1analyzer.backends.cache.RedisCache` (``REDIS_URL``).

Vector indexes live in :mod:`f1analyzer.knowledge.index`, narrators in :mod:`f1analyzer.narration`.
"""

from f1analyzer.backends.cache import Cache, MemoryCache, RedisCache, cached, get_cache, make_key

__all__ = ["Cache", "MemoryCache", "RedisCache", "cached", "get_cache", "make_key"]
