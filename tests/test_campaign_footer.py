"""The studio's postal address and logo in campaign mail (issue 16): the address is required
before a gallery uses a workflow, shown in every campaign footer; the logo is checked, resized,
served publicly and shown at the top of campaign mail."""

import html
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.mailing.models import MailKind, OutboxMessage
from app.workflows.engine import tick
from app.workflows.models import GalleryWorkflow, Trigger
from app.workflows.preview import render_for_preview
from tests import factories
from tests.factories import NOW
from tests.workflow_factories import assign, make_workflow


def png(size=(1200, 300), color=(20, 80, 160, 255)):
    buffer = io.BytesIO()
    Image.new("RGBA", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, data, name="logo.png"):
    return client.post(
        "/admin/galleries/branding",
        data={"logo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def campaign_rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == MailKind.CAMPAIGN)).all()


@pytest.fixture
def gallery_with_client(owner):
    gallery = factories.make_gallery(owner.studio, sale_starts_at=NOW)
    factories.make_client(owner.studio, gallery=gallery)
    return gallery


# ------------------------------------------------------------------ the postal address


def test_the_address_is_saved_from_the_profile_tidied(client, logged_in):
    studio = logged_in.studio
    form = {
        "studio-name": studio.name,
        "studio-email": "hello@northlight-photo.com",
        "studio-timezone": studio.timezone,
        "studio-currency": studio.currency,
        "studio-language": studio.language,
        "studio-postal_address": "  Northlight   Studio \r\n\r\n 3 Quay Road \n Leeds LS1 4AP ",
    }
    assert client.post("/profile/studio", data=form).status_code == 302
    db.session.expire_all()
    assert studio.postal_address == "Northlight Studio\n3 Quay Road\nLeeds LS1 4AP"


def test_the_address_cannot_be_removed_while_galleries_send_campaigns(client, logged_in, gallery_with_client):
    studio = logged_in.studio
    assign(gallery_with_client, make_workflow(studio, emails=[dict(trigger=Trigger.SALE_START)]))
    form = {
        "studio-name": studio.name,
        "studio-email": "hello@northlight-photo.com",
        "studio-timezone": studio.timezone,
        "studio-currency": studio.currency,
        "studio-language": studio.language,
        "studio-postal_address": "  ",
    }
    page = client.post("/profile/studio", data=form)
    assert page.status_code == 422
    assert "Your campaign emails need it: 1 gallery uses a workflow" in html.unescape(page.data.decode())
    db.session.expire_all()
    assert studio.postal_address


def test_a_workflow_is_not_chosen_for_a_gallery_without_the_address(client, auth):
    owner = factories.make_owner(postal_address=None)
    auth.login(owner)
    gallery = factories.make_gallery(owner.studio)
    workflow = make_workflow(owner.studio, emails=[dict(trigger=Trigger.SALE_START)])
    page = client.post(
        f"/admin/workflows/galleries/{gallery.id}", data={"workflow": str(workflow.id)}, follow_redirects=True
    )
    assert "Add your studio's postal address first" in html.unescape(page.data.decode())
    page = client.post(
        f"/admin/workflows/{workflow.id}/galleries",
        data={"gallery_ids": [str(gallery.id)]},
        follow_redirects=True,
    )
    assert "Add your studio's postal address first" in html.unescape(page.data.decode())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GalleryWorkflow)) == 0


def test_every_campaign_message_shows_the_address(app, owner, gallery_with_client):
    assign(gallery_with_client, make_workflow(owner.studio, emails=[dict(trigger=Trigger.SALE_START)]))
    tick(NOW)
    db.session.commit()
    [row] = campaign_rows()
    assert "Northlight Studio · 12 Harbour Street · 75001 Paris, France" in html.unescape(row.html)
    assert "12 Harbour Street · 75001 Paris, France" in row.text
    email = db.session.scalars(sa.select(GalleryWorkflow)).one().workflow.emails[0]
    preview = render_for_preview(email, owner.studio, gallery_with_client)
    assert "12 Harbour Street · 75001 Paris, France" in html.unescape(preview.html)


# ------------------------------------------------------------------ the logo


def test_a_logo_is_resized_served_and_shown_in_campaign_mail(client, logged_in, app, gallery_with_client):
    assert upload(client, png()).status_code == 302
    studio = logged_in.studio
    db.session.expire_all()
    assert studio.logo_filename.startswith("logo-") and studio.logo_filename.endswith(".png")
    client.get("/logout")
    with client.get(f"/media/logo/{studio.id}/{studio.logo_filename}") as served:  # no session
        assert served.status_code == 200
        data = served.data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (600, 150) and image.mode == "RGBA"  # fitted, proportions kept

    assign(gallery_with_client, make_workflow(studio, emails=[dict(trigger=Trigger.SALE_START)]))
    tick(NOW)
    db.session.commit()
    [row] = campaign_rows()
    assert f'src="http://localhost/media/logo/{studio.id}/{studio.logo_filename}"' in row.html
    assert f'alt="{studio.name}"' in row.html


def test_a_new_logo_replaces_the_old_file_and_removing_it_shows_the_name(client, logged_in, app):
    upload(client, png())
    studio = logged_in.studio
    db.session.expire_all()
    first = Path(app.config["UPLOAD_FOLDER"]) / str(studio.id) / "branding" / studio.logo_filename
    assert first.exists()
    upload(client, png(color=(200, 30, 30, 255)))
    db.session.expire_all()
    assert not first.exists() and studio.logo_filename != first.name
    page = client.post("/admin/galleries/branding/remove", follow_redirects=True).data.decode()
    assert "Logo removed" in html.unescape(page) and "data-no-logo" in page
    db.session.expire_all()
    assert studio.logo_filename is None


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 not an image", "logo.pdf", "not an image we can use"),
        (b"", "empty.png", "not an image we can use"),
    ],
)
def test_a_file_that_is_not_a_usable_image_is_refused_with_a_reason(client, logged_in, data, name, message):
    page = upload(client, data, name)
    assert page.status_code == 422 and message in html.unescape(page.data.decode())
    db.session.expire_all()
    assert logged_in.studio.logo_filename is None


def test_an_oversized_logo_is_refused(client, logged_in, monkeypatch):
    from app.galleries import branding

    monkeypatch.setattr(branding, "MAX_LOGO_BYTES", 1000)
    page = upload(client, png())
    assert page.status_code == 422 and "A logo must be under 5 MB" in page.data.decode()


# ------------------------------------------------------------------ the gallery's cover


def test_each_gallerys_cover_heads_its_own_campaign_mail_preview_and_test(app, owner):
    from app.galleries import services
    from app.workflows.test_send import render_test

    workflow = make_workflow(owner.studio, emails=[dict(trigger=Trigger.SALE_START)])
    covered, plain = (
        factories.make_gallery(owner.studio, title=title, sale_starts_at=NOW)
        for title in ("Covered", "Plain")
    )
    for gallery in (covered, plain):
        factories.make_client(owner.studio, email=f"parent-{gallery.slug}@example.com", gallery=gallery)
        assign(gallery, workflow)
    services.set_cover(covered, factories.make_photo(covered))
    db.session.commit()

    tick(NOW)  # one tick, one workflow email, two galleries: each its own cover (or none)
    db.session.commit()
    by_gallery = {row.gallery_id: row.html for row in campaign_rows()}
    assert "data-cover" in by_gallery[covered.id]
    assert "data-cover" not in by_gallery[plain.id]
    email = workflow.emails[0]
    assert "data-cover" in render_for_preview(email, owner.studio, covered).html
    assert "data-cover" not in render_for_preview(email, owner.studio, plain).html
    assert "data-cover" in render_test(email, owner.studio, NOW, covered).html
