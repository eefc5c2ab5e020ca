"""The stamps cache answers from memory only while its file has not changed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from civicgrid.core import stampcache
from civicgrid.core.stampcache import StampFileCache


def _cache(location: Path) -> StampFileCache:
    return StampFileCache(str(location), {})


def _age(cache: StampFileCache, key: str, seconds: float) -> None:
    """Make the key's file look written ``seconds`` ago."""
    path = cache._key_to_file(key)
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cache files opened for reading."""
    seen: list[str] = []
    real_open = open

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "rb" and str(file).endswith(".djcache"):
            seen.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    return seen


def test_a_settled_file_is_read_once_and_then_answered_from_memory(tmp_path, opens):
    cache = _cache(tmp_path)
    cache.set("people", "a1", None)
    _age(cache, "people", 5)
    assert [cache.get("people") for _ in range(3)] == ["a1", "a1", "a1"]
    assert len(opens) == 1


def test_a_change_by_another_process_is_seen_at_the_next_read(tmp_path, opens):
    mine, theirs = _cache(tmp_path), _cache(tmp_path)
    mine.set("people", "a1", None)
    _age(mine, "people", 5)
    assert mine.get("people") == "a1"  # remembered
    theirs.set("people", "b2", None)
    assert mine.get("people") == "b2"
    # Even a rewrite in place that keeps the inode and the size.
    theirs.touch("people", None)
    assert mine.get("people") == "b2"
    assert len(opens) == 3


def test_a_recently_written_file_is_read_every_time(tmp_path, opens):
    cache = _cache(tmp_path)
    cache.set("people", "a1", None)
    assert [cache.get("people") for _ in range(3)] == ["a1", "a1", "a1"]
    assert len(opens) == 3


def test_nothing_is_remembered_of_a_file_younger_than_the_window(tmp_path, monkeypatch):
    # A file replaced within one tick of a coarse clock, by one of the same size on a
    # reused inode, would show the remembered signature: the window keeps that from
    # ever being trusted.
    monkeypatch.setattr(stampcache, "SETTLED_NS", 10**18)  # never settled
    cache = _cache(tmp_path)
    cache.set("people", "a1", None)
    _age(cache, "people", 5)
    assert cache.get("people") == "a1"
    assert cache._seen == {}


def test_expiry_and_deletion(tmp_path, monkeypatch):
    cache = _cache(tmp_path)
    cache.set("short", "x", 30)
    _age(cache, "short", 5)
    assert cache.get("short") == "x"  # remembered with its expiry
    later = time.time() + 60
    monkeypatch.setattr(stampcache.time, "time", lambda: later)
    assert cache.get("short", "gone") == "gone"
    assert not Path(cache._key_to_file("short")).exists()  # removed, as FileBasedCache does
    cache.set("kept", "y", None)
    cache.delete("kept")
    assert cache.get("kept", "none") == "none"


def test_the_stamps_cache_without_redis_is_this_one():
    from django.core.cache import caches

    assert isinstance(caches["stamps"], StampFileCache)
