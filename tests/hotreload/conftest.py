"""Fixtures of the hot-reload tests (kept in ``trees`` so test modules can import its helpers)."""

from .trees import tree

__all__ = ["tree"]
