"""The button key: made once, kept in the store, the same after a restart and for N workers."""

from __future__ import annotations

import asyncio

from tgstats.store import open_store
from tgstats.store.secrets import BUTTON_KEY, get_or_create_secret


def test_the_key_is_created_once_and_survives_reopening(store_url: str) -> None:
    with open_store(store_url) as store:
        key = get_or_create_secret(store.engine, BUTTON_KEY)
        assert len(key) == 32
        assert get_or_create_secret(store.engine, BUTTON_KEY) == key
        assert get_or_create_secret(store.engine, "other") != key
    with open_store(store_url) as reopened:  # a restart
        assert get_or_create_secret(reopened.engine, BUTTON_KEY) == key


async def test_workers_starting_together_agree_on_one_key(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(4)]
    try:
        keys = await asyncio.gather(
            *(asyncio.to_thread(get_or_create_secret, s.engine, BUTTON_KEY) for s in stores)
        )
    finally:
        for s in stores:
            s.close()
    assert len(set(keys)) == 1
