from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Creation and last-change times, stored in UTC like every time in the platform."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class SentOnce(models.Model):
    """A record a phone or a form may send twice: the retry carries the same client key.

    The service stores the key with a digest of what was sent; a retry with the same key
    and body gets the first record back, one with another body is refused. The subclass
    makes the key unique per sender with ``sent_once_per(sender_field, name)``.
    """

    client_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    body_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True


def sent_once_per(sender: str, name: str) -> models.UniqueConstraint:
    """One record per sender and client key (records sent without a key are not limited)."""
    return models.UniqueConstraint(
        fields=[sender, "client_key"], condition=~models.Q(client_key=""), name=name
    )
