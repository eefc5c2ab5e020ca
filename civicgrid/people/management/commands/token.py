from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.people.models import ApiToken, User
from civicgrid.people.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "API tokens for scripts and devices: create USERNAME, list [USERNAME], revoke PREFIX."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new token (shown once)")
        create.add_argument("username")
        create.add_argument("--name", default="cli", help="what the token is for")
        listing = sub.add_parser("list", help="list tokens (never their values)")
        listing.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"no user named {options['username']!r}")
            _token, raw = api_token_create(user=user, name=options["name"])
            self.stdout.write(raw)
        elif action == "list":
            tokens = ApiToken.objects.select_related("user")
            if options["username"]:
                tokens = tokens.filter(user__username=options["username"])
            for t in tokens:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(
                    f"{t.prefix}\t{t.user.username}\t{t.name}\t{state}\t{t.created_at:%Y-%m-%d}"
                )
        else:
            matches = list(
                ApiToken.objects.filter(prefix=options["prefix"], revoked_at__isnull=True)
            )
            if len(matches) != 1:
                raise CommandError(
                    f"{len(matches)} active tokens have prefix {options['prefix']!r}"
                )
            api_token_revoke(token=matches[0])
            self.stdout.write(f"revoked {matches[0]}")
