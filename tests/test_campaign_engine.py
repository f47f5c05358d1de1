"""The campaign tick, trigger by trigger: move `now` across the due time and check each message
is queued once, at the right minute, to the right people."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import GalleryStatus
from app.mailing.dispatch import dispatch
from app.mailing.models import MailKind, MailState, OutboxMessage, Suppression
from app.shop import cart as carts
from app.shop.models import OrderStatus
from app.workflows.due import due_occurrences
from app.workflows.engine import tick
from app.workflows.models import GalleryWorkflow, RecipientFilter, Rule, Trigger
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, make_promotion, order_now, sell_gallery
from tests.workflow_factories import assign, make_workflow


def utc(*args):
    return datetime(*args, tzinfo=UTC)


SALE_START = utc(2027, 3, 1, 7, 0)  # 08:00 in Paris
SALE_END = utc(2027, 3, 21, 22, 0)  # 23:00 in Paris
ARCHIVE = utc(2027, 4, 30, 22, 0)


@pytest.fixture
def school(owner):
    """A published school gallery in Paris with three registered parents and a price list."""
    studio = owner.studio
    gallery = factories.make_gallery(
        studio,
        title="Riverside Primary",
        sale_starts_at=SALE_START,
        sale_ends_at=SALE_END,
        archives_at=ARCHIVE,
    )
    registered = SALE_START - timedelta(days=5)
    parents = [
        factories.make_client(
            studio,
            email=f"parent{i}@example.com",
            name=f"Parent {i}",
            gallery=gallery,
            registered_at=registered,
        )
        for i in range(3)
    ]
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    return type(
        "School",
        (),
        dict(studio=studio, gallery=gallery, parents=parents, price_list=price_list, photo=photo),
    )


def queued(kind=MailKind.CAMPAIGN):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.recipient)
    ).all()


def run_tick(now):
    result = tick(now)
    db.session.commit()
    return result


def test_sale_start_instant_goes_once_to_every_registered_client(school, mail_outbox):
    workflow = make_workflow(
        school.studio, emails=[dict(trigger=Trigger.SALE_START, subject="%gallery_title% is open")]
    )
    assign(school.gallery, workflow)
    assert run_tick(SALE_START - timedelta(minutes=1)).queued.total() == 0
    result = run_tick(SALE_START)
    assert result.queued == {"sale_start": 3}
    assert run_tick(SALE_START + timedelta(minutes=1)).queued.total() == 0  # once
    assert [m.recipient for m in queued()] == [p.email for p in school.parents]
    assert {m.subject for m in queued()} == {"Riverside Primary is open"}
    assert dispatch(SALE_START + timedelta(minutes=1)).sent == 3
    assert sorted(m.to for m in mail_outbox.wait_for(3)) == [
        f"Parent {i} <parent{i}@example.com>" for i in range(3)
    ]


def test_days_after_at_send_time_in_the_studio_timezone_to_non_buyers(school):
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
            )
        ],
    )
    assign(school.gallery, workflow)
    buyer = school.parents[0]
    fill_cart(
        buyer, school.gallery, school.photo, school.price_list.products[0], now=SALE_START + timedelta(days=1)
    )
    order_now(school.studio, buyer, now=SALE_START + timedelta(days=1))
    due = utc(2027, 3, 4, 8, 0)  # 09:00 in Paris on 4 March
    assert run_tick(due - timedelta(seconds=1)).queued.total() == 0
    assert run_tick(due).queued == {"sale_start": 2}
    assert buyer.email not in {m.recipient for m in queued()}


def test_days_before_sale_end_reads_the_filter_at_the_due_time(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_END,
                rule=Rule.DAYS_BEFORE,
                days=2,
                send_time="18:00",
                recipient_filter=RecipientFilter.ORDERED,
                subject="Last call",
            )
        ],
    )
    assign(school.gallery, workflow)
    due = utc(2027, 3, 19, 17, 0)
    assert run_tick(due).queued.total() == 0  # nobody has ordered: nothing queued...
    assert due_occurrences(due - timedelta(days=1), due, skip_processed=True) == []  # ...and done


def test_registration_instant_and_one_day_after(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.REGISTRATION, subject="Welcome %client_name%"),
            dict(
                trigger=Trigger.REGISTRATION,
                rule=Rule.DAYS_AFTER,
                days=1,
                send_time="10:00",
                subject="Have you seen your photos?",
            ),
        ],
    )
    assign(school.gallery, workflow)
    registered_at = utc(2027, 3, 2, 20, 15)
    newcomer = factories.make_client(
        school.studio,
        email="new@example.com",
        name="Nina",
        gallery=school.gallery,
        registered_at=registered_at,
    )
    assert run_tick(registered_at).queued == {"registration": 1}
    assert queued()[0].subject == "Welcome Nina"
    assert run_tick(utc(2027, 3, 3, 8, 59)).queued.total() == 0
    assert run_tick(utc(2027, 3, 3, 9, 0)).queued == {"registration": 1}
    assert {m.recipient for m in queued()} == {newcomer.email}


def test_after_an_order_zero_days_at_9h_for_an_order_at_15h_goes_at_15h(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.ORDER,
                rule=Rule.DAYS_AFTER,
                days=0,
                send_time="09:00",
                subject="Thank you for order %order_number%",
            )
        ],
    )
    assign(school.gallery, workflow)
    placed = utc(2027, 3, 5, 14, 0)  # 15:00 in Paris
    parent = school.parents[1]
    fill_cart(parent, school.gallery, school.photo, school.price_list.products[0], now=placed)
    order = order_now(school.studio, parent, now=placed)
    assert run_tick(placed - timedelta(seconds=1)).queued.total() == 0
    assert run_tick(placed).queued == {"order": 1}
    assert queued()[0].subject == f"Thank you for order {order.number}"


def test_abandoned_cart_after_one_day_only_while_the_cart_is_open(school):
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
    first, second = school.parents[:2]
    added = utc(2027, 3, 6, 10, 0)
    product = school.price_list.products[0]
    fill_cart(first, school.gallery, school.photo, product, now=added)
    cart = fill_cart(second, school.gallery, school.photo, product, now=added)
    carts.remove_item(cart, cart.items[0].id, added + timedelta(hours=2))  # emptied: closed
    db.session.commit()
    assert run_tick(utc(2027, 3, 7, 18, 0)).queued == {"cart": 1}
    assert [m.recipient for m in queued()] == [first.email]


def test_promotion_expiry_day_before_and_removed_promotions_are_silent(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.PROMOTION_EXPIRY,
                rule=Rule.DAYS_BEFORE,
                days=1,
                send_time="10:00",
                subject="%promotion_name% ends tomorrow",
            )
        ],
    )
    assign(school.gallery, workflow)
    ends = utc(2027, 3, 10, 22, 59)
    make_promotion(school.gallery, name="Early bird", starts_at=SALE_START, ends_at=ends)
    removed = make_promotion(school.gallery, name="Flash", starts_at=SALE_START, ends_at=ends)
    removed.removed_at = SALE_START + timedelta(days=2)
    db.session.commit()
    result = run_tick(utc(2027, 3, 9, 9, 0))  # 10:00 Paris the day before
    assert result.queued == {"promotion_expiry": 3}
    assert {m.subject for m in queued()} == {"Early bird ends tomorrow"}


def test_archiving_trigger_still_speaks_about_an_archived_gallery(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.ARCHIVE, subject="Your gallery is archived"),
            dict(
                trigger=Trigger.SALE_START,
                rule=Rule.DAYS_AFTER,
                days=60,
                send_time="09:00",
                subject="Too late",
            ),
        ],
    )
    assign(school.gallery, workflow)
    school.gallery.status = GalleryStatus.ARCHIVED
    db.session.commit()
    result = run_tick(ARCHIVE)
    assert result.queued == {"archive": 3}


def test_an_email_due_while_its_gallery_is_unpublished_is_missed_not_sent_late(school):
    from app.workflows.timeline import gallery_timeline

    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    school.gallery.status = GalleryStatus.DRAFT
    db.session.commit()
    result = run_tick(SALE_START)
    assert result.queued.total() == 0 and result.waiting == 1
    school.gallery.status = GalleryStatus.PUBLISHED
    db.session.commit()
    assert run_tick(SALE_START + timedelta(hours=3)).queued.total() == 0
    entry = gallery_timeline(school.gallery, SALE_START + timedelta(hours=3)).entries[0]
    assert entry.state == "missed" and entry.recipients == 3


def test_after_a_pause_the_tick_catches_up_within_the_window(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    run_tick(SALE_START - timedelta(hours=5))  # the last tick before the scheduler stopped
    assert run_tick(SALE_START + timedelta(hours=20)).queued.total() == 3


def test_nothing_is_sent_once_the_catch_up_window_has_passed(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    assert run_tick(SALE_START + timedelta(hours=24, seconds=1)).queued.total() == 0


def test_unassigned_workflow_sends_nothing(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    db.session.delete(db.session.get(GalleryWorkflow, school.gallery.id))
    db.session.commit()
    assert run_tick(SALE_START).queued.total() == 0


def test_moving_the_sale_start_moves_what_was_not_sent_and_never_resends(school):
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.SALE_START, subject="Open"),
            dict(
                trigger=Trigger.SALE_END, rule=Rule.DAYS_BEFORE, days=1, send_time="09:00", subject="Closing"
            ),
        ],
    )
    assign(school.gallery, workflow)
    assert run_tick(SALE_START).queued.total() == 3
    later_start = SALE_START + timedelta(days=2)
    school.gallery.sale_starts_at = later_start
    school.gallery.sale_ends_at = SALE_END + timedelta(days=3)
    db.session.commit()
    assert run_tick(later_start).queued.total() == 0  # sent once already
    assert run_tick(utc(2027, 3, 20, 8, 0)).queued.total() == 0  # the old "day before the end"
    assert run_tick(utc(2027, 3, 23, 8, 0)).queued == {"sale_end": 3}  # the new one


def test_unsubscribed_clients_are_left_out(school):
    db.session.add(
        Suppression(
            studio_id=school.studio.id,
            email=school.parents[2].email,
            reason="unsubscribed",
            created_at=SALE_START,
        )
    )
    db.session.commit()
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    assert run_tick(SALE_START).queued.total() == 2


def test_suppressions_are_read_for_the_recipients_only_and_in_any_case(school, other_owner):
    from app.workflows.audience import _suppressed

    studio = school.studio
    for studio_id, address in [
        (studio.id, "parent1@example.com"),
        (studio.id, "someone.else@example.com"),
        (other_owner.studio.id, "parent0@example.com"),
    ]:
        db.session.add(
            Suppression(studio_id=studio_id, email=address, reason="unsubscribed", created_at=SALE_START)
        )
    school.parents[1].email = "Parent1@Example.com"
    db.session.commit()
    assert _suppressed({studio.id}, school.parents) == {(studio.id, "parent1@example.com")}
    workflow = make_workflow(
        studio, emails=[dict(trigger=Trigger.SALE_START), dict(trigger=Trigger.REGISTRATION)]
    )
    assign(school.gallery, workflow)
    factories.make_client(
        studio,
        email="SOMEONE.else@example.com",
        gallery=school.gallery,
        registered_at=SALE_START - timedelta(seconds=30),
    )
    run_tick(SALE_START)
    assert sorted(message.recipient for message in queued()) == ["parent0@example.com", "parent2@example.com"]


def test_another_studios_workflow_never_reaches_this_gallery(school, other_owner):
    theirs = make_workflow(other_owner.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assert theirs.id
    assert run_tick(SALE_START).queued.total() == 0


def test_campaign_messages_carry_one_click_unsubscribe_that_works_without_a_cookie(school, app, mail_outbox):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    run_tick(SALE_START)
    dispatch(SALE_START)
    message = sorted(mail_outbox.wait_for(3), key=lambda m: m.to)[0].message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https_link = message["List-Unsubscribe"].split(",")[0].strip("<> ")
    # no mailto without the inbound receiver (tests/test_mailing_deliverability.py has both)
    assert https_link.startswith("http") and "mailto:" not in message["List-Unsubscribe"]
    assert https_link.partition("?m=")[0] in message.get_body(("html",)).get_content()
    path = "/" + https_link.split("/", 3)[3]
    anonymous = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    page = anonymous.get(path)
    assert page.status_code == 200 and b"Unsubscribe?" in page.data
    assert db.session.get(Suppression, (school.studio.id, "parent0@example.com")) is None
    assert anonymous.post(path).status_code == 200
    assert anonymous.post(path).status_code == 200  # idempotent
    db.session.expire_all()
    assert db.session.get(Suppression, (school.studio.id, "parent0@example.com")) is not None


def test_dry_run_lists_without_queueing(school):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    result = tick(SALE_START, dry_run=True)
    assert result.queued == {"sale_start": 3} and len(result.planned) == 1
    db.session.commit()
    assert queued() == [] and run_tick(SALE_START).queued.total() == 3


def test_cancelled_orders_do_not_count_as_ordered(school):
    from app.shop.orders import change_status

    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_END,
                rule=Rule.DAYS_BEFORE,
                days=1,
                send_time="09:00",
                recipient_filter=RecipientFilter.NOT_ORDERED,
            )
        ],
    )
    assign(school.gallery, workflow)
    parent = school.parents[0]
    fill_cart(
        parent,
        school.gallery,
        school.photo,
        school.price_list.products[0],
        now=SALE_START + timedelta(days=1),
    )
    order = order_now(school.studio, parent, now=SALE_START + timedelta(days=1))
    change_status(order, OrderStatus.CANCELLED, now=SALE_START + timedelta(days=2), reason="x")
    db.session.commit()
    assert run_tick(utc(2027, 3, 20, 8, 0)).queued.total() == 3
    assert all(m.state == MailState.QUEUED for m in queued())


def test_tick_command_queues_and_dry_run_only_lists(school, runner):
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START)])
    assign(school.gallery, workflow)
    dry = runner.invoke(args=["emails", "tick", "--now", SALE_START.isoformat(), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: queued 3 emails for 1 occurrences (sale_start 3)" in dry.output
    assert queued() == []
    real = runner.invoke(args=["emails", "tick", "--now", SALE_START.isoformat()])
    assert "queued 3 emails for 1 occurrences (sale_start 3)" in real.output
    again = runner.invoke(args=["emails", "tick", "--now", SALE_START.isoformat()])
    assert "queued 0 emails" in again.output and len(queued()) == 3


def test_timeline_shows_upcoming_sent_and_missed_and_missed_can_be_sent_now(school):
    from app.workflows.timeline import gallery_timeline, send_missed

    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.SALE_START, subject="Open"),
            dict(
                trigger=Trigger.SALE_END, rule=Rule.DAYS_BEFORE, days=1, send_time="09:00", subject="Closing"
            ),
            dict(trigger=Trigger.REGISTRATION, subject="Welcome"),
        ],
    )
    assign(school.gallery, workflow)
    run_tick(SALE_START)
    late = SALE_START + timedelta(days=2)
    timeline = gallery_timeline(school.gallery, late)
    states = {entry.email.subject: (entry.state, entry.recipients) for entry in timeline.entries}
    assert states == {"Open": ("sent", 3), "Closing": ("upcoming", 3)}
    welcome = timeline.client_emails[0]
    assert welcome.email.subject == "Welcome" and welcome.counts["missed"] == 3
    missed = welcome.missed[0]
    assert send_missed(school.gallery, missed.email_id, missed.kind, missed.occurrence_id, late) == 1
    db.session.commit()
    again = gallery_timeline(school.gallery, late).client_emails[0]
    assert again.counts["missed"] == 2 and again.counts["sent"] == 1
    assert (
        send_missed(school.gallery, missed.email_id, missed.kind, missed.occurrence_id, late) is None
    )  # already sent: nothing twice


def test_sqlite_planner_statistics_are_refreshed_hourly_by_the_tick(school, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    from app.workflows.engine import STATISTICS
    from app.workflows.models import EngineState

    def stat_rows():
        return db.session.execute(sa.text("SELECT count(*) FROM sqlite_stat1")).scalar()

    def mark():
        db.session.expire_all()
        return db.session.get(EngineState, STATISTICS).value

    run_tick(SALE_START)
    assert stat_rows() > 0 and mark() == SALE_START
    db.session.execute(sa.text("DELETE FROM sqlite_stat1"))
    db.session.commit()
    run_tick(SALE_START + timedelta(minutes=59))
    assert stat_rows() == 0 and mark() == SALE_START  # not again within the hour
    run_tick(SALE_START + timedelta(hours=1, minutes=1))
    assert stat_rows() > 0 and mark() == SALE_START + timedelta(hours=1, minutes=1)


def test_what_recipients_share_is_filled_per_gallery_and_language(school):
    """The tick fills a gallery's own values (title, dates) once per gallery and language and
    each recipient's own (name, links) per message: nothing leaks from one to another."""
    hillside = factories.make_gallery(
        school.studio,
        title="Hillside <High>",
        sale_starts_at=SALE_START,
        sale_ends_at=SALE_END + timedelta(days=3),
        archives_at=ARCHIVE,
    )
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_START,
                subject="%gallery_title% for %client_name%",
                body_html="<p>%gallery_title% closes on %sale_end_date%, %client_name%: %gallery_link%</p>",
            )
        ],
    )
    assign(school.gallery, workflow)
    assign(hillside, workflow)
    registered = SALE_START - timedelta(days=1)
    german = factories.make_client(
        school.studio, email="de@example.com", name="Jürgen", gallery=hillside, registered_at=registered
    )
    german.language = "de"
    factories.make_client(
        school.studio, email="en@example.com", name="Ann & Co", gallery=hillside, registered_at=registered
    )
    run_tick(SALE_START)
    sent = {message.recipient: message for message in queued()}
    assert len(sent) == 5
    for parent in school.parents:
        message = sent[parent.email]
        assert message.subject == f"Riverside Primary for {parent.name}"
        assert f"Riverside Primary closes on March 21, 2027, {parent.name}" in message.text
    assert sent["en@example.com"].subject == "Hillside <High> for Ann & Co"
    assert "Hillside &lt;High&gt; closes on March 24, 2027, Ann &amp; Co" in sent["en@example.com"].html
    assert "Hillside <High> closes on 24. März 2027, Jürgen" in sent["de@example.com"].text
    links = {
        message.recipient: re.search(r"/signin/([^?\s\"]+)\?gallery=(\d+)", message.text).groups()
        for message in sent.values()
    }
    assert len({token for token, _gallery in links.values()}) == 5  # one per recipient
    assert links["de@example.com"][1] == str(hillside.id)
    assert links[school.parents[0].email][1] == str(school.gallery.id)


def test_sqlite_reads_each_branchs_occurrences_before_joining_their_emails(school, database_url):
    """Each branch of the tick's query starts from the occurrences in the window (an index
    range on their instant). SQLite, left to merge the subquery into the joins, started some
    from the workflow emails and sought the window in every gallery of theirs: 10 ms a tick
    with nothing due at 10,000 galleries."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL joins in the written order (join_collapse_limit)")
    assign(
        school.gallery,
        make_workflow(
            school.studio,
            emails=[
                dict(trigger=Trigger.REGISTRATION),
                dict(trigger=Trigger.SALE_START),
                dict(trigger=Trigger.CART, rule=Rule.DAYS_AFTER, days=1, send_time="10:00"),
            ],
        ),
    )
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.startswith("SELECT 0,"):
            captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run_tick(SALE_START)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = captured[0]
    plan = [
        row[3]
        for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    ]
    branches = statement.count(" UNION ALL ") + 1
    read_first = [
        step for step in plan if step.startswith(("MATERIALIZE occurrence_", "CO-ROUTINE occurrence_"))
    ]
    assert branches == 3 and len(read_first) == branches, plan
    # ... then their gallery's workflow emails of the branch's schedule, from the index alone.
    emails_read = [step for step in plan if step.startswith("SEARCH workflow_email ")]
    assert emails_read and all("ix_workflow_email_schedule" in step for step in emails_read), plan


def test_a_window_of_several_days_finds_every_occurrence_in_it(school):
    workflow = make_workflow(
        school.studio,
        emails=[dict(trigger=Trigger.REGISTRATION, rule=Rule.DAYS_AFTER, days=1, send_time=time(9, 0))],
    )
    assign(school.gallery, workflow)
    late = [
        factories.make_client(
            school.studio,
            email=f"late{i}@example.com",
            gallery=school.gallery,
            registered_at=SALE_START + timedelta(days=i),
        )
        for i in range(5)
    ]
    db.session.commit()
    found = due_occurrences(SALE_START, SALE_START + timedelta(days=7))
    assert sorted(d.client_id for d in found) == sorted(client.id for client in late)
    assert [d.due_at.astimezone(ZoneInfo("Europe/Paris")).hour for d in found] == [9] * 5


def test_range_slots_keep_the_query_shape_and_never_drop_a_range():
    from app.workflows.due import _range_slots

    ranges = [(utc(2027, 1, day), utc(2027, 1, day, 12)) for day in range(1, 6)]
    assert _range_slots(None) == ()
    assert len(_range_slots(ranges[:1])) == len(_range_slots(ranges[:2])) == 2
    assert len(_range_slots(ranges[:3])) == 4 and len(_range_slots(ranges)) == 8
    padded = _range_slots(ranges)
    assert padded[:5] == tuple(ranges)
    assert all(low == high for low, high in padded[5:])  # empty: they match nothing


def their_school(studio, parent=None):
    """Another studio's gallery with the school's dates (and one parent registered before the
    sale, when ``parent`` is given)."""
    gallery = factories.make_gallery(
        studio, title="Their school", sale_starts_at=SALE_START, sale_ends_at=SALE_END, archives_at=ARCHIVE
    )
    if parent:
        factories.make_client(
            studio, email=parent, gallery=gallery, registered_at=SALE_START - timedelta(days=1)
        )
    return gallery


def test_studios_sharing_a_template_each_sign_with_their_own_name(school, other_owner):
    """Copies of one template are laid out once (the layout holds %studio_name%), yet every
    message names its own studio, escaped in HTML."""
    school.studio.name = "Northlight & Co"
    theirs = their_school(other_owner.studio, parent="their.parent@example.com")
    for studio, gallery in ((school.studio, school.gallery), (other_owner.studio, theirs)):
        assign(gallery, make_workflow(studio, emails=[dict(trigger=Trigger.SALE_START)]))
    run_tick(SALE_START)
    by_studio = {message.studio_id: message for message in queued()}
    ours, other = by_studio[school.studio.id], by_studio[other_owner.studio.id]
    assert "Northlight &amp; Co" in ours.html and "Northlight & Co" in ours.text
    assert other_owner.studio.name in other.html and "Northlight" not in other.html
    assert not any("%studio_name%" in part for part in (ours.html, ours.text, other.html))


def test_gallery_wide_and_per_client_triggers_are_read_in_one_query(school):
    """Archiving emails (no client) and a registration email (a client) come from one
    UNION ALL: their client columns must agree in type, on PostgreSQL too (two untyped NULLs
    first make it take the column for text)."""
    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.ARCHIVE, rule=Rule.DAYS_BEFORE, days=1, send_time=time(9, 0)),
            dict(trigger=Trigger.ARCHIVE),
            dict(trigger=Trigger.REGISTRATION),
        ],
    )
    assign(school.gallery, workflow)
    newcomer = factories.make_client(
        school.studio, email="new@example.com", gallery=school.gallery, registered_at=SALE_START
    )
    found = due_occurrences(SALE_START - timedelta(minutes=1), ARCHIVE)
    assert sorted((d.trigger, d.client_id or 0) for d in found) == [
        (Trigger.ARCHIVE, 0),
        (Trigger.ARCHIVE, 0),
        (Trigger.REGISTRATION, newcomer.id),
    ]


def test_one_email_setting_in_two_timezones_goes_at_each_studios_local_time(school, other_owner):
    """Paris and New York studios share '1 day after registration at 09:00': the tick reads
    both timezones' occurrences in one branch and sends each at its own 09:00."""
    theirs = their_school(other_owner.studio)
    registered = utc(2027, 3, 2, 12, 0)  # 13:00 in Paris, 07:00 in New York
    ours = factories.make_client(
        school.studio, email="paris@example.com", gallery=school.gallery, registered_at=registered
    )
    other = factories.make_client(
        other_owner.studio, email="ny@example.com", gallery=theirs, registered_at=registered
    )
    for studio, gallery in ((school.studio, school.gallery), (other_owner.studio, theirs)):
        assign(
            gallery,
            make_workflow(
                studio,
                emails=[dict(trigger=Trigger.REGISTRATION, rule=Rule.DAYS_AFTER, days=1, send_time="09:00")],
            ),
        )
    paris_nine, new_york_nine = utc(2027, 3, 3, 8, 0), utc(2027, 3, 3, 14, 0)
    assert run_tick(paris_nine - timedelta(minutes=1)).queued.total() == 0
    assert run_tick(paris_nine).queued.total() == 1
    assert [m.recipient for m in queued()] == [ours.email]
    assert run_tick(new_york_nine - timedelta(minutes=1)).queued.total() == 0
    assert run_tick(new_york_nine).queued.total() == 1
    assert sorted(m.recipient for m in queued()) == sorted([ours.email, other.email])


def test_campaign_mail_comes_from_each_studios_own_sender_when_its_domain_is_verified(school, other_owner):
    """From is the studio's address once its domain is verified; otherwise the platform's,
    shown as "<studio> via Proofsheet", with replies to the studio (mailing/identity.py)."""
    from email.utils import parseaddr

    from app.mailing import sender_domains
    from app.mailing.models import StudioMailSettings

    db.session.add(
        StudioMailSettings(
            studio_id=school.studio.id,
            sender_email="hello@north.example",
            sender_name="Northlight",
            updated_at=SALE_START,
        )
    )
    sender_domains.set_domain(school.studio.id, "north.example", SALE_START).verified_at = SALE_START
    theirs = their_school(other_owner.studio, parent="their.parent@example.com")
    for studio, gallery in ((school.studio, school.gallery), (other_owner.studio, theirs)):
        assign(gallery, make_workflow(studio, emails=[dict(trigger=Trigger.SALE_START)]))
    run_tick(SALE_START)
    messages = {message.studio_id: message for message in queued()}
    assert messages[school.studio.id].sender == "Northlight <hello@north.example>"
    assert messages[school.studio.id].reply_to is None
    name, _address = parseaddr(messages[other_owner.studio.id].sender)
    assert name == f"{other_owner.studio.name} via Proofsheet"
    assert messages[other_owner.studio.id].reply_to == other_owner.studio.email


def test_a_registration_committed_just_after_a_tick_is_queued_by_the_next_one(school):
    """Stamped by its request before a tick, committed after it (a slow request, SQLite's
    write lock): the next tick's overlap still reads it, once."""
    workflow = make_workflow(
        school.studio, emails=[dict(trigger=Trigger.REGISTRATION, subject="Welcome %client_name%")]
    )
    assign(school.gallery, workflow)
    tick_at = utc(2027, 3, 2, 20, 15)
    assert run_tick(tick_at).queued.total() == 0
    factories.make_client(
        school.studio,
        email="late@example.com",
        name="Lena",
        gallery=school.gallery,
        registered_at=tick_at - timedelta(seconds=20),
    )
    assert run_tick(tick_at + timedelta(minutes=1)).queued == {"registration": 1}
    assert run_tick(tick_at + timedelta(minutes=2)).queued.total() == 0
    assert [m.subject for m in queued()] == ["Welcome Lena"]


def test_a_sale_start_typed_minutes_back_after_a_tick_is_still_sent(school):
    """A photographer opens the sale "now" at 10:02 with a start of 10:00: the next tick
    sends the sale-start email (gallery dates overlap by five minutes)."""
    workflow = make_workflow(school.studio, emails=[dict(trigger=Trigger.SALE_START, subject="Open")])
    assign(school.gallery, workflow)
    opened_at = SALE_START - timedelta(days=1)
    assert run_tick(opened_at).queued.total() == 0
    school.gallery.sale_starts_at = opened_at - timedelta(minutes=3)
    db.session.commit()
    assert run_tick(opened_at + timedelta(minutes=1)).queued == {"sale_start": 3}
    assert run_tick(opened_at + timedelta(minutes=2)).queued.total() == 0


def test_registrations_a_tick_dealt_with_are_dropped_before_their_emails_are_joined(school):
    """The tick's first check, by the occurrence alone: a registration whose instant emails a
    tick dealt with is not read again by the next ticks (its record's due time is compared
    with the registration's own instant, which must match on both databases)."""
    from app.workflows.due import SOURCES, _occurrences

    workflow = make_workflow(
        school.studio,
        emails=[
            dict(trigger=Trigger.REGISTRATION, subject="Welcome"),
            dict(trigger=Trigger.REGISTRATION, subject="Your code"),
        ],
    )
    assign(school.gallery, workflow)
    registered_at = utc(2027, 3, 2, 20, 15, 7, 123456)
    newcomer = factories.make_client(
        school.studio,
        email="new@example.com",
        name="Nina",
        gallery=school.gallery,
        registered_at=registered_at,
    )

    def occurrences_read(skip_processed):
        subquery = _occurrences(0, SOURCES[Trigger.REGISTRATION], Rule.INSTANT, 1, False, skip_processed)
        return db.session.scalars(
            sa.select(subquery.c.client_id),
            {
                "c0_low_0": registered_at - timedelta(minutes=1),
                "c0_high_0": registered_at + timedelta(minutes=1),
            },
        ).all()

    assert occurrences_read(skip_processed=True) == [newcomer.id]
    assert run_tick(registered_at + timedelta(seconds=30)).queued == {"registration": 2}
    assert occurrences_read(skip_processed=True) == []
    assert occurrences_read(skip_processed=False) == [newcomer.id]
    assert run_tick(registered_at + timedelta(seconds=90)).queued.total() == 0
