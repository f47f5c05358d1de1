"""Campaign emails only while they make sense (issue 15): reminders stop once the sale has
closed, cart emails once the cart is gone, a queued reminder is dropped when its client orders;
marketing only with consent; a date moved into the recent past still sends what fell due."""

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import GalleryStatus
from app.mailing.models import MailState, OutboxMessage
from app.shop import cart as carts
from app.workflows.models import CampaignOccurrence, Purpose, RecipientFilter, Rule, Trigger
from app.workflows.timeline import gallery_timeline
from tests import factories
from tests.shop_factories import fill_cart, make_promotion, order_now
from tests.test_campaign_engine import (
    ARCHIVE,
    SALE_END,
    SALE_START,
    queued,
    run_tick,
    utc,
)
from tests.test_campaign_engine import school as school  # noqa: F401,PLC0414  (the fixture)
from tests.workflow_factories import assign, make_workflow


def records():
    db.session.expire_all()
    return db.session.scalars(sa.select(CampaignOccurrence)).all()


def consent(*clients):
    for client in clients:
        client.marketing_consent = True
    db.session.commit()


# ------------------------------------------------------------------ never after it stops making sense


def test_a_reminder_due_after_the_sale_closed_is_skipped_and_shown_so(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_START,
                rule=Rule.DAYS_AFTER,
                days=25,
                send_time="09:00",
                recipient_filter=RecipientFilter.NOT_ORDERED,
                subject="Still time to order",
            )
        ],
    )
    assign(school.gallery, workflow)
    due = utc(2027, 3, 26, 8, 0)  # 25 days after the sale start, the sale closed on 21 March
    result = run_tick(due)
    assert result.queued.total() == 0 and result.skipped == {"sale_closed": 1}
    assert queued() == []
    [record] = records()
    assert record.skip_reason == "sale_closed" and record.recipients == 0 and not record.missed
    entry = gallery_timeline(school.gallery, due + timedelta(hours=1)).entries[0]
    assert (entry.state, entry.reason) == ("skipped", "sale_closed")


def test_a_reminder_before_the_sale_closes_still_goes(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_START,
                rule=Rule.DAYS_AFTER,
                days=3,
                send_time="09:00",
                recipient_filter=RecipientFilter.NOT_ORDERED,
            )
        ],
    )
    assign(school.gallery, workflow)
    assert run_tick(utc(2027, 3, 4, 8, 0)).queued == {"sale_start": 3}


def test_reminders_of_an_archived_or_unpublished_gallery_are_skipped(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_END,
                rule=Rule.DAYS_BEFORE,
                days=1,
                send_time="09:00",
                recipient_filter=RecipientFilter.NOT_ORDERED,
                subject="Last call",
            ),
            dict(
                trigger=Trigger.SALE_END,
                rule=Rule.DAYS_BEFORE,
                days=1,
                send_time="09:00",
                subject="Sale info",
            ),
        ],
    )  # not a reminder: missed, as before
    assign(school.gallery, workflow)
    school.gallery.status = GalleryStatus.DRAFT
    db.session.commit()
    result = run_tick(utc(2027, 3, 20, 8, 0))
    assert result.skipped == {"unpublished": 1} and result.waiting == 1
    reasons = {r.workflow_email_id: (r.skip_reason, r.missed) for r in records()}
    assert set(reasons.values()) == {(None, True), ("unpublished", False)}


def test_the_timeline_page_says_why_an_email_was_skipped(school, owner, auth, client):
    workflow = make_workflow(
        school.studio, emails=[dict(trigger=Trigger.PROMOTION_EXPIRY, subject="Offer over")]
    )
    assign(school.gallery, workflow)
    make_promotion(school.gallery, starts_at=SALE_START, ends_at=SALE_END + timedelta(days=2))
    run_tick(SALE_END + timedelta(days=2))
    auth.login(owner)
    page = client.get(f"/admin/workflows/galleries/{school.gallery.id}")
    assert page.status_code == 200
    assert "Skipped: sale closed" in page.get_data(as_text=True)


def test_a_cart_email_is_skipped_when_the_cart_was_emptied_or_ordered(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.CART,
                rule=Rule.DAYS_AFTER,
                days=1,
                send_time="19:00",
                subject="Your cart is waiting",
            )
        ],
    )
    assign(school.gallery, workflow)
    added = utc(2027, 3, 6, 10, 0)
    product = school.price_list.products[0]
    emptied, ordering, waiting = school.parents
    cart = fill_cart(emptied, school.gallery, school.photo, product, now=added)
    carts.remove_item(cart, cart.items[0].id, added + timedelta(hours=1))
    fill_cart(ordering, school.gallery, school.photo, product, now=added)
    order_now(school.studio, ordering, now=added + timedelta(hours=2))
    fill_cart(waiting, school.gallery, school.photo, product, now=added)
    db.session.commit()
    result = run_tick(utc(2027, 3, 7, 18, 0))
    assert result.queued == {"cart": 1} and result.skipped == {"cart_gone": 1, "ordered": 1}
    assert [m.recipient for m in queued()] == [waiting.email]
    summary = gallery_timeline(school.gallery, utc(2027, 3, 7, 19, 0)).client_emails[0]
    assert summary.counts["sent"] == 1 and summary.skipped == {"cart_gone": 1, "ordered": 1}


def test_ordering_drops_the_clients_queued_reminders_but_nothing_else(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_START,
                rule=Rule.DAYS_AFTER,
                days=3,
                send_time="09:00",
                recipient_filter=RecipientFilter.NOT_ORDERED,
                subject="Don't miss your photos",
            ),
            dict(
                trigger=Trigger.SALE_START,
                rule=Rule.DAYS_AFTER,
                days=3,
                send_time="09:00",
                subject="News for everyone",
            ),
        ],
    )
    assign(school.gallery, workflow)
    due = utc(2027, 3, 4, 8, 0)
    assert run_tick(due).queued == {"sale_start": 6}  # queued, not yet sent
    buyer = school.parents[0]
    fill_cart(buyer, school.gallery, school.photo, school.price_list.products[0], now=due)
    order_now(school.studio, buyer, now=due + timedelta(seconds=30))
    states = {(m.recipient, m.subject): (m.state, m.last_error) for m in queued()}
    assert states[(buyer.email, "Don't miss your photos")] == (MailState.SKIPPED, "ordered meanwhile")
    assert states[(buyer.email, "News for everyone")] == (MailState.QUEUED, None)
    others = [state for (recipient, _s), state in states.items() if recipient != buyer.email]
    assert others == [(MailState.QUEUED, None)] * 4
    entry = next(
        e
        for e in gallery_timeline(school.gallery, due + timedelta(minutes=5)).entries
        if e.email.subject == "Don't miss your photos"
    )
    assert entry.state == "sent" and entry.recipients == 3 and entry.ordered_meanwhile == 1


def test_ordering_drops_a_queued_cart_email(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.CART,
                rule=Rule.DAYS_AFTER,
                days=1,
                send_time="19:00",
                subject="Your cart is waiting",
            )
        ],
    )
    assign(school.gallery, workflow)
    parent = school.parents[1]
    fill_cart(parent, school.gallery, school.photo, school.price_list.products[0], now=utc(2027, 3, 6, 10, 0))
    due = utc(2027, 3, 7, 18, 0)
    assert run_tick(due).queued == {"cart": 1}
    order_now(school.studio, parent, now=due + timedelta(minutes=1))
    [message] = queued()
    assert (message.state, message.last_error) == (MailState.SKIPPED, "ordered meanwhile")
    summary = gallery_timeline(school.gallery, due + timedelta(minutes=5)).client_emails[0]
    assert summary.skipped == {"ordered_meanwhile": 1} and summary.counts["sent"] == 0


# ------------------------------------------------------------------ consent


def test_marketing_goes_only_to_clients_who_consented_and_the_others_are_counted(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.SALE_START, subject="Offers", purpose=Purpose.MARKETING),
            dict(trigger=Trigger.SALE_START, subject="Gallery open", purpose=Purpose.SERVICE),
        ],
    )
    assign(school.gallery, workflow)
    consent(school.parents[0])
    result = run_tick(SALE_START)
    assert result.queued == {"sale_start": 4} and result.without_consent == 2
    by_subject = {}
    for message in queued():
        by_subject.setdefault(message.subject, []).append(message.recipient)
    assert by_subject == {
        "Offers": [school.parents[0].email],
        "Gallery open": [p.email for p in school.parents],
    }
    counts = {r.workflow_email_id: (r.recipients, r.without_consent) for r in records()}
    assert sorted(counts.values()) == [(1, 2), (3, 0)]
    entries = gallery_timeline(school.gallery, SALE_START + timedelta(hours=1)).entries
    assert {e.email.subject: e.without_consent for e in entries} == {"Offers": 2, "Gallery open": 0}


def test_the_timeline_counts_upcoming_recipients_without_consent(school, owner, auth, client):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_END,
                rule=Rule.DAYS_BEFORE,
                days=1,
                send_time="09:00",
                purpose=Purpose.MARKETING,
            )
        ],
    )
    assign(school.gallery, workflow)
    consent(*school.parents[:2])
    [entry] = gallery_timeline(school.gallery, SALE_START).entries
    assert (entry.state, entry.recipients, entry.without_consent) == ("upcoming", 2, 1)
    auth.login(owner)
    page = client.get(f"/admin/workflows/galleries/{school.gallery.id}").get_data(as_text=True)
    assert "1 without consent" in page


# ------------------------------------------------------------------ dates moved into the recent past


def move(gallery, at, **dates):
    for name, value in dates.items():
        setattr(gallery, name, value)
    gallery.updated_at = at
    db.session.commit()


def test_a_sale_start_set_to_this_morning_sends_its_email_and_its_due_reminder(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.SALE_START, subject="Open"),
            dict(
                trigger=Trigger.SALE_START,
                rule=Rule.DAYS_AFTER,
                days=0,
                send_time="09:00",
                subject="Same morning",
            ),
        ],
    )
    assign(school.gallery, workflow)
    today = utc(2027, 2, 26, 14, 0)  # 15:00 in Paris; the parents registered on the 24th
    run_tick(today - timedelta(minutes=1))
    move(school.gallery, today, sale_starts_at=utc(2027, 2, 26, 6, 0))  # 07:00 this morning
    result = run_tick(today + timedelta(minutes=1))
    assert result.queued == {"sale_start": 6}
    assert {m.subject for m in queued()} == {"Open", "Same morning"}
    assert run_tick(today + timedelta(minutes=2)).queued.total() == 0  # once


def test_an_archive_date_set_ten_minutes_ago_sends_the_archive_email(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.ARCHIVE, subject="Archived")])
    assign(school.gallery, workflow)
    now = utc(2027, 4, 2, 10, 0)
    run_tick(now)
    move(school.gallery, now + timedelta(seconds=30), archives_at=now - timedelta(minutes=10))
    assert run_tick(now + timedelta(minutes=1)).queued == {"archive": 3}


def test_a_promotion_end_moved_into_the_recent_past_sends_its_email(school):
    workflow = make_workflow(
        school.studio, emails=[dict(trigger=Trigger.PROMOTION_EXPIRY, subject="%promotion_name% is over")]
    )
    assign(school.gallery, workflow)
    now = utc(2027, 3, 5, 12, 0)
    promotion = make_promotion(
        school.gallery, name="Early bird", starts_at=SALE_START, ends_at=now + timedelta(days=3)
    )
    run_tick(now)
    promotion.ends_at = now - timedelta(hours=2)
    db.session.commit()
    assert run_tick(now + timedelta(minutes=1)).queued == {"promotion_expiry": 3}
    assert {m.subject for m in queued()} == {"Early bird is over"}
    assert run_tick(now + timedelta(minutes=2)).queued.total() == 0


def test_a_date_moved_back_past_what_was_sent_sends_nothing_again(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    assert run_tick(SALE_START).queued.total() == 3
    move(school.gallery, SALE_START + timedelta(hours=2), sale_starts_at=SALE_START + timedelta(hours=1))
    assert run_tick(SALE_START + timedelta(hours=2, minutes=1)).queued.total() == 0


def test_an_unchanged_gallery_is_not_read_over_the_whole_window(school):
    """Only changed galleries are read back across the catch-up window: a workflow assigned
    after its sale started sends nothing late (the timeline shows it missed)."""
    run_tick(SALE_START + timedelta(hours=3))
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    assert run_tick(SALE_START + timedelta(hours=3, minutes=1)).queued.total() == 0
    entry = gallery_timeline(school.gallery, SALE_START + timedelta(hours=4)).entries[0]
    assert entry.state == "missed"


def test_a_date_moved_beyond_the_catch_up_window_is_not_sent(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    now = utc(2027, 2, 20, 14, 0)
    run_tick(now)
    move(school.gallery, now, sale_starts_at=now - timedelta(hours=25))
    assert run_tick(now + timedelta(minutes=1)).queued.total() == 0


def test_outbox_rows_skipped_keep_their_reason_for_email_activity(school):
    assert ARCHIVE  # the school's dates, imported for the fixture
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.REGISTRATION,
                rule=Rule.DAYS_AFTER,
                days=1,
                send_time="10:00",
                recipient_filter=RecipientFilter.NOT_ORDERED,
            )
        ],
    )
    assign(school.gallery, workflow)
    newcomer = factories.make_client(
        school.studio, email="new@example.com", gallery=school.gallery, registered_at=utc(2027, 3, 2, 8)
    )
    assert run_tick(utc(2027, 3, 3, 9, 0)).queued == {"registration": 1}
    fill_cart(
        newcomer, school.gallery, school.photo, school.price_list.products[0], now=utc(2027, 3, 3, 9, 0)
    )
    order_now(school.studio, newcomer, now=utc(2027, 3, 3, 9, 0, 30))
    row = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.recipient == newcomer.email, OutboxMessage.kind == "campaign"
        )
    )
    assert (row.state, row.last_error) == (MailState.SKIPPED, "ordered meanwhile")
