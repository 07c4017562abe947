"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

``store`` and ``store_url`` come from tests/conftest.py (shared with the
importer tests); the PostgreSQL variant is a fresh schema per test.
"""
