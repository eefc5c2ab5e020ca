import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from civicgrid.core.clientip import client_address_from, parse_proxies

PROXIES = parse_proxies(["10.0.0.0/8", "2001:db8::1"])


def test_a_forged_header_from_an_untrusted_peer_is_ignored():
    assert client_address_from("203.0.113.9", "1.2.3.4", PROXIES) == "203.0.113.9"
    assert client_address_from("203.0.113.9", "10.0.0.7", PROXIES) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_client_is_the_last_hop_it_added():
    assert client_address_from("10.0.0.5", "198.51.100.7", PROXIES) == "198.51.100.7"
    # The client forged a first entry; our proxy appended the real address after it.
    assert client_address_from("10.0.0.5", "1.2.3.4, 198.51.100.7", PROXIES) == "198.51.100.7"
    # Two of our proxies in a row are skipped.
    assert client_address_from("10.0.0.5", "198.51.100.7, 10.1.1.1", PROXIES) == "198.51.100.7"
    assert client_address_from("2001:db8::1", "[2001:db8::99]:4711", PROXIES) == "2001:db8::99"


def test_a_missing_or_garbled_chain_leaves_the_peer():
    assert client_address_from("10.0.0.5", "", PROXIES) == "10.0.0.5"
    assert client_address_from("10.0.0.5", "not-an-address", PROXIES) == "10.0.0.5"
    assert client_address_from("10.0.0.5", "10.0.0.6", PROXIES) == "10.0.0.5"


def test_a_bad_proxy_setting_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="is not an address or network"):
        parse_proxies(["proxy.local"])


@pytest.mark.django_db
def test_the_login_throttle_counts_the_client_not_the_proxy_nor_a_forged_header(settings):
    settings.CIVICGRID_TRUSTED_PROXIES = ["10.0.0.0/8"]
    form = {"username": "nobody", "password": "wrong password"}
    Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7").post(
        "/accounts/login/", form
    )
    Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.8").post(
        "/accounts/login/", form
    )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "198.51.100.7",
        "203.0.113.9",
    }
