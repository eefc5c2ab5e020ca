"""``civicgrid device register USERNAME DEVICE_ID`` (and ``list``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.errors import DomainError
from civicgrid.patrol.models import Device
from civicgrid.patrol.services import device_register
from civicgrid.people.models import User


class Command(BaseCommand):
    help = "Register a phone (its Traccar Client device identifier) to a staff member, or list."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        register = actions.add_parser("register", help="register DEVICE_ID to USERNAME")
        register.add_argument("username")
        register.add_argument("device_id")
        actions.add_parser("list", help="list registered devices")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for device in Device.objects.select_related("user"):
                state = "active" if device.active else "inactive"
                self.stdout.write(f"{device.identifier}\t{device.user.username}\t{state}")
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            device = device_register(user=user, identifier=options["device_id"], actor=None)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(f"Device {device.identifier} registered to {user.username}.")
