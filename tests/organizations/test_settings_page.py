from __future__ import annotations

from organizations.models import AllowedSender, Organization


def test_it_shows_the_inbound_address_with_a_copy_button(world, client_as):
    body = client_as(world.viewer).get("/settings/").content.decode()
    assert "testorg@in.localhost" in body
    assert "data-copy" in body


def test_admins_add_addresses_and_domains_to_the_allow_list(world, client_as):
    client = client_as(world.admin)
    assert client.post("/settings/", {"pattern": "PM@Client.com"}).status_code == 302
    assert client.post("/settings/", {"pattern": "@agency.example"}).status_code == 302
    patterns = set(AllowedSender.objects.filter(organization=world.org).values_list("pattern", flat=True))
    assert patterns == {"pm@client.com", "@agency.example"}


def test_it_rejects_what_is_neither_an_address_nor_a_domain(world, client_as):
    response = client_as(world.admin).post("/settings/", {"pattern": "not-an-address"})
    assert response.status_code == 200
    assert not AllowedSender.objects.filter(organization=world.org).exists()


def test_admins_remove_allow_list_entries(world, client_as):
    sender = AllowedSender.objects.create(organization=world.org, pattern="@gone.example")
    assert client_as(world.admin).post(f"/settings/senders/{sender.pk}/delete/").status_code == 302
    assert not AllowedSender.objects.filter(pk=sender.pk).exists()


def test_an_admin_cannot_remove_another_organizations_entry(world, other_org, client_as):
    sender = AllowedSender.objects.create(organization=other_org, pattern="@theirs.example")
    assert client_as(world.admin).post(f"/settings/senders/{sender.pk}/delete/").status_code == 404
    assert AllowedSender.objects.filter(pk=sender.pk).exists()


def test_members_cannot_change_the_allow_list_or_policy(world, client_as):
    assert client_as(world.member).post("/settings/", {"pattern": "@x.example"}).status_code == 403
    assert client_as(world.member).post("/settings/", {"sender_policy": "anyone"}).status_code == 403


def test_admins_change_the_sender_policy(world, client_as):
    client_as(world.admin).post("/settings/", {"sender_policy": "anyone"})
    assert Organization.objects.get(pk=world.org.pk).sender_policy == "anyone"
