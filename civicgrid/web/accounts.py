"""Login with a per-role landing page, and the remembered language.

The switch stores the choice on the user (so it follows them to every device), in the
session and in the language cookie Django's LocaleMiddleware reads; each login sets the
cookie from the user's choice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from civicgrid.people.backends import WAIT_ATTRIBUTE
from civicgrid.people.models import User
from civicgrid.people.services import user_language_set
from civicgrid.web.casework import landing_url

SESSION_LANGUAGE = "civicgrid_language"


class LoginForm(AuthenticationForm):
    """Django's login form, saying so when the account's failure delay refused the attempt."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            wait = getattr(self.request, WAIT_ATTRIBUTE, 0)
            if not wait:
                raise
            raise ValidationError(
                _(
                    "This account has had many failed logins from elsewhere. Wait %(seconds)s "
                    "seconds before the next try here; from a device you have logged in from "
                    "before there is no wait."
                )
                % {"seconds": wait},
                code="login_delayed",
            ) from None


class LoginView(auth_views.LoginView):
    form_class = LoginForm

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)
        if getattr(self.request, WAIT_ATTRIBUTE, 0):
            response.status_code = 429
            response["Retry-After"] = str(getattr(self.request, WAIT_ATTRIBUTE))
        return response

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        return landing_url(user) if isinstance(user, User) else super().get_default_redirect_url()

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response: HttpResponse = super().form_valid(form)
        user = form.get_user()
        if user.language and check_for_language(user.language):
            self.request.session[SESSION_LANGUAGE] = user.language
            _set_cookie(response, user.language)
            return response
        language = self.request.session.get(SESSION_LANGUAGE)
        known = bool(language) and check_for_language(language)
        if known and settings.LANGUAGE_COOKIE_NAME not in self.request.COOKIES:
            _set_cookie(response, str(language))
        return response


def _set_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie), plus the session."""
    response = set_language(request)
    chosen = request.POST.get("language", "")
    if check_for_language(chosen):
        request.session[SESSION_LANGUAGE] = chosen
        if isinstance(request.user, User):
            user_language_set(user=request.user, language=chosen)
    return response


def landing(request: HttpRequest) -> HttpResponse:
    user = request.user
    if isinstance(user, User):
        return redirect(landing_url(user))
    return redirect("login")
