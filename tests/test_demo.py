"""`flask seed-demo` builds a complete demo studio, once."""

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.galleries.models import AccessCard, CardClaim, Gallery, Photo, Registration
from app.workflows.models import GalleryWorkflow


def test_seed_demo_creates_a_usable_studio_once(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo@proofsheet.local / demo-password" in result.output
    owner = db.session.scalar(sa.select(User).where(User.email == "demo@proofsheet.local"))
    galleries = db.session.scalars(sa.select(Gallery).where(Gallery.studio_id == owner.studio_id)).all()
    assert sorted(g.is_qr for g in galleries) == [False, True]
    assert db.session.scalar(sa.select(sa.func.count(Photo.id))) >= 20
    assert db.session.scalar(sa.select(sa.func.count(AccessCard.id))) == 4
    assert db.session.scalar(sa.select(sa.func.count(CardClaim.client_id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 4
    assert db.session.scalar(sa.select(sa.func.count(GalleryWorkflow.gallery_id))) == 2
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "already exists" in again.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
