"""The API's routes tried in another order resolve every path as before."""

from __future__ import annotations

import re

from django.urls import URLResolver
from django.urls.resolvers import RegexPattern

from civicgrid.config.api import api
from civicgrid.config.urls import API_FIRST, hot_first

# A value each path converter accepts.
SAMPLES = {"int": "7", "str": "x1", "slug": "x-1", "path": "a/b",
           "uuid": "00000000-0000-0000-0000-000000000000"}  # fmt: skip


def _example(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x1"), route)


def test_moving_the_case_routes_first_changes_no_resolution() -> None:
    urls = api.urls
    before = urls[0]
    after, _app, _ns = hot_first(urls, API_FIRST)
    assert sorted(map(id, after)) == sorted(map(id, before))
    assert str(after[0].pattern).startswith("cases")
    old, new = URLResolver(RegexPattern(r"^/"), before), URLResolver(RegexPattern(r"^/"), after)
    paths = [f"/{_example(str(p.pattern))}" for p in before]
    paths += ["/cases/tasks", "/cases/inbox", "/cases/categories", "/health", "/health/checks"]
    for path in paths:
        assert new.resolve(path).route == old.resolve(path).route, path
