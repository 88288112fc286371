"""Plugin state: the shared state database (``db``), the vault's master key (``keys``) and the vault (``vault``).

Kept import-free so that ``import plugin.storage.db`` does not load ``cryptography``.
"""
