"""One registry of %variables% (issue 15): for every trigger and every variable it offers, the
preview for a real client equals the message the engine queues for that client, and no offered
variable renders empty when its data exists."""

import re
from datetime import timedelta
from itertools import count

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.mailing.models import OutboxMessage
from app.workflows.due import due_occurrences
from app.workflows.engine import queue_occurrences
from app.workflows.messages import dedup_key
from app.workflows.models import Rule, Trigger
from app.workflows.preview import render_for_preview
from app.workflows.variables import REGISTRY, not_offered, variables_offered
from tests import factories
from tests.shop_factories import (
    fill_cart,
    make_price_list,
    make_promotion,
    order_now,
    sell_gallery,
)
from tests.test_campaign_engine import ARCHIVE, SALE_END, SALE_START
from tests.workflow_factories import assign, make_workflow

SERIAL = count()
RULES = [(Rule.INSTANT, 0, None), (Rule.DAYS_AFTER, 1, "10:00")]
IN_SALE = SALE_START + timedelta(days=4, hours=3)


def _promotion_span(trigger):
    """A promotion running at every due time of the example, or, for promotion expiry, one
    ending inside the sale (its expiry email is a reminder, not sent once the sale closed)."""
    if trigger == Trigger.PROMOTION_EXPIRY:
        return SALE_START, SALE_START + timedelta(days=8)
    return SALE_START - timedelta(days=10), ARCHIVE + timedelta(days=5)


def _setting(owner, trigger, discount):
    """A gallery of its own with one consenting registered client and the trigger's data."""
    number = next(SERIAL)
    studio = owner.studio
    gallery = factories.make_gallery(
        studio,
        title=f"Gallery <{number}>",
        slug=f"g-{number}",
        sale_starts_at=SALE_START,
        sale_ends_at=SALE_END,
        archives_at=ARCHIVE,
    )
    client = factories.make_client(
        studio,
        email=f"p{number}@example.com",
        name=f"Parent & {number}",
        gallery=gallery,
        registered_at=SALE_START - timedelta(days=2),
    )
    client.marketing_consent = True
    price_list = make_price_list(studio, name=f"Prints {number}")
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    starts, ends = _promotion_span(trigger)
    make_promotion(gallery, name=f"Offer {number}", value=discount, starts_at=starts, ends_at=ends)
    if trigger in (Trigger.CART, Trigger.ORDER):
        fill_cart(client, gallery, photo, price_list.products[1], quantity=2, now=IN_SALE)
    if trigger == Trigger.ORDER:
        order_now(studio, client, now=IN_SALE + timedelta(minutes=5))
    db.session.commit()
    return gallery, client


def _unsigned(text):
    """Sign-in tokens carry their second of signing: the preview's and the tick's differ."""
    return re.sub(r"/signin/[^?\s\"]+", "/signin/TOKEN", text)


@st.composite
def cases(draw):
    trigger = draw(st.sampled_from(list(Trigger)))
    offered = [variable.name for variable in variables_offered(trigger)]
    names = draw(st.lists(st.sampled_from(offered), min_size=1, max_size=6, unique=True))
    return trigger, names, draw(st.sampled_from(RULES)), draw(st.integers(100, 5000))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_the_preview_for_a_real_client_is_the_queued_message(owner, case):
    trigger, names, (rule, days, send_time), discount = case
    gallery, client = _setting(owner, trigger, discount)
    body = "<p>" + " ".join(f"[{name}=%{name}%]" for name in names) + "</p>"
    workflow = make_workflow(
        owner.studio,
        title=f"W {gallery.id}",
        emails=[
            dict(
                trigger=trigger,
                rule=rule,
                days=days,
                send_time=send_time,
                subject=f"{names[0]}: %{names[0]}%",
                body_html=body,
            )
        ],
    )
    assign(gallery, workflow)
    email = workflow.emails[0]
    preview = render_for_preview(email, owner.studio, gallery)
    assert preview.client.id == client.id and preview.sampled == []
    [occurrence] = [
        o for o in due_occurrences(gallery_id=gallery.id, skip_processed=False) if o.email_id == email.id
    ]
    result = queue_occurrences([occurrence], occurrence.due_at)
    assert result.queued.total() == 1, result
    row = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.dedup_key
            == dedup_key(email.id, occurrence.kind, occurrence.occurrence_id, client.id)
        )
    )
    assert _unsigned(row.subject) == _unsigned(preview.subject)
    assert _unsigned(row.html) == _unsigned(preview.html)
    assert _unsigned(row.text) == _unsigned(preview.text)
    for name in names:  # every offered variable has its data here: none renders empty
        assert f"[{name}=]" not in row.text, name
    db.session.rollback()


def test_every_trigger_offers_the_promotion_and_only_its_own_occurrence_values():
    offered = {trigger: {v.name for v in variables_offered(trigger)} for trigger in Trigger}
    assert all({"promotion_name", "promotion_end_date", "client_name"} <= names for names in offered.values())
    assert offered[Trigger.CART] - offered[Trigger.SALE_START] == {"cart_total"}
    assert offered[Trigger.ORDER] - offered[Trigger.SALE_START] == {"order_number", "order_total"}
    assert not_offered(Trigger.SALE_START, "%order_number% %cart_total% %client_name%") == [
        "order_number",
        "cart_total",
    ]
    assert set(REGISTRY) == set().union(*offered.values())


def test_cart_total_and_the_running_promotion_are_filled_in_real_mail(owner):
    gallery, client = _setting(owner, Trigger.CART, 1500)
    workflow = make_workflow(
        owner.studio,
        title="Cart",
        emails=[
            dict(
                trigger=Trigger.CART,
                subject="Cart",
                body_html="<p>Total %cart_total%, %promotion_name% -%promotion_discount%</p>",
            )
        ],
    )
    assign(gallery, workflow)
    [occurrence] = due_occurrences(gallery_id=gallery.id, skip_processed=False)
    queue_occurrences([occurrence], occurrence.due_at)
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == client.email))
    # Two 20 x 30 prints at 15.00; the promotion running at the cart's moment.
    assert "Total €30.00" in row.text and f"Offer {gallery.title[9:-1]} -15%" in row.text
