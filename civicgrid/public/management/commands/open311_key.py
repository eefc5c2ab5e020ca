from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import DomainError
from civicgrid.public.models import Open311Key
from civicgrid.public.services import open311_key_create


class Command(BaseCommand):
    help = "Create, list or revoke Open311 API keys (open311-key create NAME prints the key)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("name", nargs="?", default="")

    def handle(self, *args: Any, action: str, name: str, **options: Any) -> None:
        if action == "list":
            for key in Open311Key.objects.all():
                state = "active" if key.active else "revoked"
                self.stdout.write(f"{key.name}\t{key.prefix}…\t{state}\t{key.created_at:%Y-%m-%d}")
            return
        if not name:
            raise CommandError("Give the key's NAME.")
        if action == "revoke":
            if not Open311Key.objects.filter(name=name).update(active=False):
                raise CommandError(f"No key named {name}.")
            self.stdout.write(f"Revoked {name}.")
            return
        try:
            _key, raw = open311_key_create(name=name)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(raw)
