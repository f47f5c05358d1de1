"""Sender domains (issue 16): the records a studio publishes, checked against a real local DNS
server; mail from a verified domain signed with its DKIM key and verified by dkimpy against
the published record; "Studio via Proofsheet" until then; the studio's "Replies go to" on every
kind of mail."""

import html
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr

import dkim
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing import sender_domains
from app.mailing.dispatch import dispatch
from app.mailing.identity import studio_identity
from app.mailing.models import MailKind, SenderDomain, StudioMailSettings
from app.mailing.outbox import queue_message
from app.mailing.services import send_email, send_now
from tests import factories
from tests.conftest import free_port
from tests.dns_server import txt_lookup
from tests.factories import NOW

DOMAIN = "northlight.example.com"


@pytest.fixture
def app_config(dns_server):
    return {"DNS_NAMESERVERS": f"127.0.0.1:{dns_server.port}"}


def sender_settings(studio_id, sender_email=f"hello@{DOMAIN}", reply_to=None, smtp_host=None):
    db.session.add(
        StudioMailSettings(
            studio_id=studio_id,
            sender_email=sender_email,
            sender_name="Northlight",
            reply_to=reply_to,
            smtp_host=smtp_host,
            updated_at=NOW,
        )
    )
    db.session.commit()


def publish_all(zone, row, app):
    for record in sender_domains.records(row, app.config):
        zone.publish(record.host, record.value)


def campaign(studio_id):
    row = queue_message(
        kind=MailKind.CAMPAIGN,
        studio_id=studio_id,
        sender=studio_identity(studio_id).sender,
        reply_to=studio_identity(studio_id).reply_to,
        recipient="parent@example.com",
        subject="Last days to order",
        now=NOW,
        html="<p>Hello</p>",
        text="Hello",
        source="workflow_email:3",
        headers={
            "X-Proofsheet-Studio": str(studio_id),
            "List-Unsubscribe": "<http://localhost/unsubscribe/1-abc.sig>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    db.session.commit()
    return row


def signature_tags(raw):
    message = message_from_bytes(raw, policy=policy.compat32)
    header = " ".join(message["DKIM-Signature"].split())
    return {
        part.split("=", 1)[0].strip(): part.split("=", 1)[1].strip()
        for part in header.split(";")
        if "=" in part
    }


# ------------------------------------------------------------------ the domain typed


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("hello@northlight.example.com", "not an email address"),
        ("https://northlight.example.com/", "without http://"),
        ("northlight", "not a valid domain name"),
        ("-bad-.example.com", "not a valid domain name"),
        ("192.0.2.10", "not an IP address"),
        ("mail.localhost", "the platform's own domain"),
    ],
)
def test_a_domain_that_cannot_be_used_is_refused_with_a_reason(client, logged_in, typed, message):
    page = client.post("/admin/mail/settings/domain", data={"domain": typed})
    assert page.status_code == 422 and message in html.unescape(page.data.decode())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SenderDomain)) == 0


@pytest.mark.no_database
def test_an_international_domain_is_stored_in_its_ascii_form(app):
    assert (
        sender_domains.normalize_domain(" Fotostudio-Müller.DE. ", app.config)
        == "xn--fotostudio-mller-uzb.de"
    )


def test_operators_cannot_see_or_change_the_sender_domain(client, auth, owner):

    operator = factories.make_operator(owner.studio, email="op@example.com")
    auth.login(operator)
    assert client.get("/admin/mail/settings/domain").status_code == 403
    assert client.post("/admin/mail/settings/domain", data={"domain": DOMAIN}).status_code == 403
    assert db.session.get(SenderDomain, owner.studio_id) is None


# ------------------------------------------------------------------ publishing and checking


def test_records_are_checked_against_dns_and_the_domain_verifies(client, logged_in, dns_zone, app):
    sender_settings(logged_in.studio_id)
    page = client.get("/admin/mail/settings/domain").data.decode()
    assert f'value="{DOMAIN}"' in page  # suggested from the sender address
    client.post("/admin/mail/settings/domain", data={"domain": DOMAIN})
    row = db.session.get(SenderDomain, logged_in.studio_id)
    page = client.get("/admin/mail/settings/domain").data.decode()
    assert f"{row.dkim_selector}._domainkey.{DOMAIN}" in page
    assert f"v=DKIM1; k=rsa; p={row.dkim_public_key}" in page
    assert f"_dmarc.{DOMAIN}" in page and "v=spf1 include:localhost ~all" in page
    assert "BEGIN" not in page and row.dkim_private_key_encrypted not in page

    answer = client.post("/admin/mail/settings/domain/check", follow_redirects=True)
    assert "is not verified yet" in answer.data.decode()
    db.session.expire_all()
    row = db.session.get(SenderDomain, logged_in.studio_id)
    assert row.verified_at is None and not row.check_results["dkim"]["ok"]
    assert "via Proofsheet" in studio_identity(logged_in.studio_id).sender

    publish_all(dns_zone, row, app)
    answer = client.post("/admin/mail/settings/domain/check", follow_redirects=True).data.decode()
    assert f"{DOMAIN} is verified" in answer
    db.session.expire_all()
    row = db.session.get(SenderDomain, logged_in.studio_id)
    assert row.verified_at is not None
    assert all(row.check_results[key]["ok"] for key in ("dkim", "dmarc", "spf"))
    identity = studio_identity(logged_in.studio_id)
    assert identity.sender == f"Northlight <hello@{DOMAIN}>" and identity.reply_to is None


def test_each_missing_or_wrong_record_says_what_to_do(app, owner, dns_zone):
    row = sender_domains.set_domain(owner.studio_id, DOMAIN, NOW)
    dns_zone.publish(f"{row.dkim_selector}._domainkey.{DOMAIN}", "v=DKIM1; k=rsa; p=AAAAother")
    dns_zone.publish(DOMAIN, "v=spf1 include:_spf.google.com ~all")
    dns_zone.publish(DOMAIN, "v=spf1 mx ~all")
    assert sender_domains.check(row, app.config, NOW)
    results = row.check_results
    assert "another key" in results["dkim"]["message"]
    assert "Gmail and Yahoo require a DMARC record" in results["dmarc"]["message"]
    assert "Several SPF records" in results["spf"]["message"]
    assert row.verified_at is None


def test_the_same_domain_keeps_its_key_and_a_new_one_gets_a_new_key(app, owner):
    first = sender_domains.set_domain(owner.studio_id, DOMAIN, NOW)
    key, selector = first.dkim_public_key, first.dkim_selector
    assert sender_domains.set_domain(owner.studio_id, DOMAIN, NOW + timedelta(hours=1)).dkim_public_key == key
    other = sender_domains.set_domain(owner.studio_id, "studio.example.org", NOW + timedelta(hours=2))
    assert other.dkim_public_key != key and other.dkim_selector != selector
    assert other.verified_at is None


def test_a_record_removed_later_takes_the_studio_back_to_via_proofsheet(app, owner, dns_zone):
    sender_settings(owner.studio_id)
    row = sender_domains.set_domain(owner.studio_id, DOMAIN, NOW)
    publish_all(dns_zone, row, app)
    assert sender_domains.check(row, app.config, NOW) and row.verified_at is not None
    db.session.commit()
    assert sender_domains.recheck_due(app.config, NOW + timedelta(hours=1)) == 0  # checked today
    dns_zone.txt.pop(f"{row.dkim_selector}._domainkey.{DOMAIN}")
    assert sender_domains.recheck_due(app.config, NOW + timedelta(hours=25)) == 1
    db.session.commit()
    assert row.verified_at is None
    identity = studio_identity(owner.studio_id)
    assert parseaddr(identity.sender)[1] == "no-reply@proofsheet.local"
    assert identity.reply_to == f"hello@{DOMAIN}"


def test_the_daily_job_rechecks_domains(app, owner, dns_zone):
    from app.jobs import recheck_sender_domains

    sender_domains.set_domain(owner.studio_id, DOMAIN, NOW)  # never checked: due at once
    db.session.commit()
    recheck_sender_domains(app)
    row = db.session.get(SenderDomain, owner.studio_id)
    assert row.checked_at is not None and row.check_results["dkim"]["ok"] is False


def test_dns_that_does_not_answer_changes_nothing(client, logged_in, app, dns_zone):
    row = sender_domains.set_domain(logged_in.studio_id, DOMAIN, NOW)
    publish_all(dns_zone, row, app)
    sender_domains.check(row, app.config, NOW)
    db.session.commit()
    app.config["DNS_NAMESERVERS"] = f"127.0.0.1:{free_port()}"  # nobody answers there
    sender_domains.DNS_LIFETIME, lifetime = 0.5, sender_domains.DNS_LIFETIME
    try:
        page = client.post("/admin/mail/settings/domain/check", follow_redirects=True)
    finally:
        sender_domains.DNS_LIFETIME = lifetime
    assert "DNS did not answer. Nothing changed" in page.data.decode()
    db.session.expire_all()
    assert db.session.get(SenderDomain, logged_in.studio_id).verified_at is not None


def test_removing_the_domain_deletes_its_key(client, logged_in):
    client.post("/admin/mail/settings/domain", data={"domain": DOMAIN})
    answer = client.post("/admin/mail/settings/domain/remove", follow_redirects=True)
    assert "The sender domain was removed" in answer.data.decode()
    assert db.session.get(SenderDomain, logged_in.studio_id) is None


# ------------------------------------------------------------------ DKIM on the wire


def test_mail_from_a_verified_domain_is_signed_and_verifies_against_dns(
    app, owner, dns_zone, dns_server, mail_outbox
):
    sender_settings(owner.studio_id)
    row = sender_domains.set_domain(owner.studio_id, DOMAIN, NOW)
    publish_all(dns_zone, row, app)
    sender_domains.check(row, app.config, NOW)
    db.session.commit()
    campaign(owner.studio_id)
    assert dispatch(NOW).sent == 1
    raw = mail_outbox.wait_for(1)[0].raw
    assert dkim.verify(raw, dnsfunc=txt_lookup(dns_server.port))
    tags = signature_tags(raw)
    assert tags["d"] == DOMAIN and tags["s"] == row.dkim_selector
    signed = {name.strip() for name in tags["h"].split(":")}
    assert {"from", "subject", "date", "list-unsubscribe", "list-unsubscribe-post", "list-id"} <= signed
    # A changed subject breaks the signature: it is really over the headers.
    tampered = raw.replace(b"Subject: Last days to order", b"Subject: Last days to ordeR")
    assert not dkim.verify(tampered, dnsfunc=txt_lookup(dns_server.port))


def test_mail_from_an_unverified_domain_goes_via_the_platform_unsigned(app, owner, dns_zone, mail_outbox):
    sender_settings(owner.studio_id, reply_to="office@northlight.example.com")
    sender_domains.set_domain(owner.studio_id, DOMAIN, NOW)  # records not published
    db.session.commit()
    campaign(owner.studio_id)
    dispatch(NOW)
    mail = mail_outbox.wait_for(1)[0]
    assert str(mail.message["From"]) == "Northlight via Proofsheet <no-reply@proofsheet.local>"
    assert str(mail.message["Reply-To"]) == "office@northlight.example.com"
    assert mail.message["DKIM-Signature"] is None


def test_the_platforms_own_key_signs_mail_from_its_address(
    app, owner, dns_zone, dns_server, mail_outbox, tmp_path
):
    private_pem, public_key = sender_domains.generate_key()
    key_file = tmp_path / "platform-dkim.pem"
    key_file.write_text(private_pem)
    app.config.update(
        MAIL_DKIM_DOMAIN="proofsheet.local",
        MAIL_DKIM_SELECTOR="ps1",
        MAIL_DKIM_PRIVATE_KEY_FILE=str(key_file),
    )
    dns_zone.publish("ps1._domainkey.proofsheet.local", f"v=DKIM1; k=rsa; p={public_key}")
    message = send_email(
        to="parent@example.com",
        subject="Your sign-in code",
        template="plain",
        studio_id=owner.studio_id,
        sensitive=True,
        paragraphs=["Your code is 123456."],
        now=NOW,
    )
    db.session.commit()
    send_now([message], NOW)
    raw = mail_outbox.wait_for(1)[0].raw
    assert signature_tags(raw)["d"] == "proofsheet.local"
    assert dkim.verify(raw, dnsfunc=txt_lookup(dns_server.port))


# ------------------------------------------------------------------ who mail is from


def test_without_settings_mail_is_via_proofsheet_with_replies_to_the_studio(app, owner):
    identity = studio_identity(owner.studio_id)
    assert identity.sender == "Northlight Studio via Proofsheet <no-reply@proofsheet.local>"
    assert identity.reply_to == "owner@northlight.test"


def test_replies_go_to_setting_is_used_on_every_kind_of_mail(app, owner, mail_outbox):
    sender_settings(owner.studio_id, reply_to="office@northlight.example.com")
    messages = [
        send_email(
            to="parent@example.com",
            subject="Your gallery",
            template="plain",
            studio_id=owner.studio_id,
            paragraphs=["Hello"],
            now=NOW,
        ),
        send_email(
            to="parent@example.com",
            subject="Your sign-in code",
            template="plain",
            studio_id=owner.studio_id,
            sensitive=True,
            paragraphs=["Your code"],
            now=NOW,
        ),
    ]
    db.session.commit()
    send_now(messages, NOW)
    campaign(owner.studio_id)
    dispatch(NOW)
    received = mail_outbox.wait_for(3)
    assert [str(mail.message["Reply-To"]) for mail in received] == ["office@northlight.example.com"] * 3
    assert all("via Proofsheet" in str(mail.message["From"]) for mail in received)


def test_the_studios_own_server_sends_from_its_address_without_a_verified_domain(app, owner):
    sender_settings(owner.studio_id, smtp_host="smtp.northlight.example.com")
    identity = studio_identity(owner.studio_id)
    assert identity.sender == f"Northlight <hello@{DOMAIN}>"
    # Messages carrying a secret always take the platform's address and server.
    sensitive = studio_identity(owner.studio_id, platform_only=True)
    assert "via Proofsheet" in sensitive.sender and sensitive.reply_to == f"hello@{DOMAIN}"
