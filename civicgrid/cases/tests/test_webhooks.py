"""Webhooks: queued with the event, sent after commit by the sender, retried on failure."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.utils import timezone

from civicgrid.cases import services
from civicgrid.cases.models import WebhookDelivery, WebhookEndpoint
from civicgrid.cases.tests.conftest import Loop


def test_delivery_is_signed_and_sent_once(loop: Loop) -> None:
    WebhookEndpoint.objects.create(url="https://example.org/hook", secret="s3cret")
    case = loop.report()
    sent: list[tuple[str, bytes, str]] = []
    assert services.webhooks_send(post=lambda *a: sent.append(a)) == (1, 0)
    assert services.webhooks_send(post=lambda *a: sent.append(a)) == (0, 0)
    [(_url, body, signature)] = sent
    assert json.loads(body)["case"] == case.number and "reporter" not in json.loads(body)
    assert signature == hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_failed_delivery_is_retried_later_then_given_up(loop: Loop) -> None:
    WebhookEndpoint.objects.create(url="https://example.org/hook", secret="x",
                                   actions=["dispatch"])  # fmt: skip
    loop.case_in("dispatched")
    delivery = WebhookDelivery.objects.get()

    def down(*args: object) -> None:
        raise OSError("connection refused")

    assert services.webhooks_send(post=down) == (0, 1)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.next_attempt_at > timezone.now()
    assert services.webhooks_send(post=down) == (0, 0)  # not due yet
    for _ in services.WEBHOOK_BACKOFF:
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        services.webhooks_send(post=down)
    delivery.refresh_from_db()
    assert delivery.failed_at is not None and "refused" in delivery.last_error


def test_only_matching_actions_are_queued(loop: Loop) -> None:
    WebhookEndpoint.objects.create(url="https://example.org/hook", secret="x",
                                   actions=["close"])  # fmt: skip
    loop.case_in("verified")
    assert WebhookDelivery.objects.count() == 0
