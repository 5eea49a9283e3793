from __future__ import annotations

from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from tests.conftest import make_user
from tests.worker import run_queued_tasks


def test_totp_secrets_are_encrypted_at_rest(db, session_orgs):
    user = make_user("mfa@testorg.test")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert stored != secret
    assert secret not in stored
    assert get_adapter().decrypt(stored) == secret


def test_the_admin_is_only_on_the_public_host(world, client_as, public_client):
    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    assert client_as(world.admin).get("/admin/").status_code == 404
    public_client.force_login(world.admin)
    assert public_client.get("/admin/").status_code == 200


def test_the_admin_refuses_non_staff(world, public_client):
    public_client.force_login(world.owner)
    response = public_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_resend_the_owners_invitation_from_the_admin(world, public_client, django_capture_on_commit_callbacks):
    from django.core import mail

    from organizations.models import Invitation

    world.admin.is_staff = True
    world.admin.is_superuser = True
    world.admin.save(update_fields=["is_staff", "is_superuser"])
    world.org.email = "billing@testorg.test"
    world.org.save(update_fields=["email"])
    public_client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(
            "/admin/organizations/organization/",
            {"action": "send_owner_invitation", "_selected_action": [world.org.pk]},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.filter(organization=world.org, email="billing@testorg.test").get()
    assert invitation.role == "owner"
    run_queued_tasks("organizations.tasks.")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["billing@testorg.test"]
