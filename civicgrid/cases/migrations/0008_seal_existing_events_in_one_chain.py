"""Put the events written so far on the installation-wide chain, in the order written.

Each event's hash now also covers its position and the previous event of the whole
installation, so every hash is computed again here, in id order (the order of writing),
before the append-only triggers exist. The head row records the last event.
"""

from typing import Any

from django.db import migrations

from civicgrid.cases.models import event_digest, hashed_event_fields


def seal(apps: Any, schema_editor: Any) -> None:
    CaseEvent = apps.get_model("cases", "CaseEvent")
    LedgerHead = apps.get_model("cases", "LedgerHead")
    last_of_case: dict[int, str] = {}
    position, chain = 0, ""
    for event in CaseEvent.objects.order_by("id").iterator(chunk_size=2000):
        position += 1
        event.position = position
        event.chain_prev = chain
        event.prev_hash = last_of_case.get(event.case_id, "")
        event.hash = event_digest(hashed_event_fields(event))
        event.save(update_fields=["position", "chain_prev", "prev_hash", "hash"])
        last_of_case[event.case_id] = chain = event.hash
    LedgerHead.objects.update_or_create(pk=1, defaults={"position": position, "hash": chain})


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_ledger_installation_chain_checkpoints")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
