"""Login throttling: django-axes, locking a (username, address) pair for a cool-off.

Keying on the pair means a stranger who hammers an account from elsewhere locks only
their own address out of it; the owner still logs in from theirs.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Every login form passes the request; a call without one comes from code (the
        # test client's login(), a shell), where there is no address to throttle.
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
