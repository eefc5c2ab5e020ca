"""The demo township, composed: each app seeds its own part in ``<app>/demo.py``.

``STEPS`` runs in order after the geography exists (staff before the cases that use them,
cases before the pages' extra situations). A new app adds one line: a name and a function
taking the ``Demo`` under construction; rows it returns become demo accounts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from civicgrid.care.demo import demo_care_create
from civicgrid.cases.demo import demo_cases_create
from civicgrid.evaluation.demo import demo_figures_materialise
from civicgrid.geo.demo import demo_township_create
from civicgrid.geo.models import Township
from civicgrid.geo.synthetic import SyntheticTownship
from civicgrid.inspections.demo import demo_inspections_create
from civicgrid.patrol.demo import demo_patrols_create
from civicgrid.people.demo import demo_admin_create, demo_staff_create
from civicgrid.registry.demo import demo_registries_fill
from civicgrid.web.demo import demo_cases_complete

Account = dict[str, Any]


def demo_password() -> str:
    return secrets.token_urlsafe(9)


@dataclass
class Demo:
    """What the steps share: the generator's seed and township, and the accounts so far."""

    seed: int
    town: SyntheticTownship
    township: Township
    accounts: list[Account] = field(default_factory=list)


# Each step returns demo-accounts.json rows (a list) or anything else, which is ignored.
Step = Callable[[Demo], object]

STEPS: list[tuple[str, Step]] = [
    ("administrator", lambda d: demo_admin_create(password=demo_password)),
    ("staff", lambda d: demo_staff_create(township=d.township, password=demo_password)),
    ("registries", lambda d: demo_registries_fill(town=d.town, seed=d.seed)),
    ("cases", lambda d: demo_cases_create(township=d.township)),
    ("case situations", lambda d: demo_cases_complete(township=d.township)),
    ("patrols", lambda d: demo_patrols_create(township=d.township, town=d.town, seed=d.seed)),
    ("inspections", lambda d: demo_inspections_create(township=d.township)),
    ("care", lambda d: demo_care_create(township=d.township, password=demo_password)),
    # Last: the daily figures of everything above.
    ("evaluation", lambda d: demo_figures_materialise()),
]


@transaction.atomic
def demo_create(*, seed: int, folder: Path) -> list[Account]:
    """The whole demo in one transaction; returns the accounts for demo-accounts.json."""
    township, town = demo_township_create(seed=seed, folder=folder)
    demo = Demo(seed=seed, town=town, township=township)
    for _name, step in STEPS:
        made = step(demo)
        if isinstance(made, list):
            demo.accounts += made
    return demo.accounts
