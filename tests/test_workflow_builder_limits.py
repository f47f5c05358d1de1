"""Limits of the workflow builder: test sends per studio (the form cannot send mail in bulk),
and the size of a rich-text body (here and in the order-email editor)."""

from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from app.extensions import db, limiter
from app.mailing.models import OutboxMessage
from app.shop.models import OrderEmailSetting
from app.workflows.models import WorkflowEmail
from tests.test_workflow_builder import email_data
from tests.workflow_factories import make_workflow


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "TEST_SEND_RATE_LIMIT": "2 per hour"}


def test_test_sends_are_rate_limited_per_studio(app, client, logged_in, mail_outbox):
    limiter.reset()  # the memory storage outlives one app
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    url = f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/test"
    answers = [client.post(url, data={"to": f"me{n}@example.com"}) for n in range(3)]
    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert b"sent many test emails" in answers[2].data
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2
    mail_outbox.wait_for(2)


def body_of(size):
    """A message body of about ``size`` bytes of HTML, dense in what URL-encoding triples."""
    paragraph = '<p>«Фотографии» «готовы» — <a href="%gallery_link%">смотрите</a></p>'
    return paragraph * (size // len(paragraph.encode()))


def test_a_body_over_the_limit_gets_a_clear_form_error(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    response = client.post(
        f"/admin/workflows/{workflow.id}/emails/new", data=email_data(body_html=body_of(210_000))
    )
    assert response.status_code == 422
    assert "The message is too long: 210 kB of HTML, the limit is 200 kB." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(WorkflowEmail.id))) == 0


def test_a_body_just_under_the_limit_saves_though_encoding_makes_it_larger(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    data = email_data(body_html=body_of(199_000))
    # A body at the limit still fits in the 1 MB request limit once URL-encoded (2.5 times here).
    assert 2 * 199_000 < len(urlencode(data)) < 1024 * 1024
    response = client.post(f"/admin/workflows/{workflow.id}/emails/new", data=data)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(WorkflowEmail.id))) == 1


@pytest.mark.parametrize("app_config", [{"MAX_RICH_TEXT_BYTES": 1000}])
def test_the_body_limit_is_configurable_and_applies_to_order_email_wording(client, logged_in):
    response = client.post(
        "/admin/shop/order-emails/paid", data={"subject": "Thank you", "body_html": body_of(3000)}
    )
    assert response.status_code == 422
    assert "the limit is 1 kB" in response.get_data(as_text=True)
    assert db.session.get(OrderEmailSetting, (logged_in.studio_id, "paid")) is None


def test_a_body_over_the_request_limit_gets_the_413_page(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    response = client.post(
        f"/admin/workflows/{workflow.id}/emails/new", data=email_data(body_html="x" * (1024 * 1024 + 1))
    )
    assert response.status_code == 413
    assert "this page accepts up to 1 MB at once" in response.get_data(as_text=True)
