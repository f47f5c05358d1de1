"""app.database helpers that the campaign tick leans on, on SQLite and PostgreSQL."""

import sqlalchemy as sa

from app.database import among
from app.extensions import db
from app.galleries.models import Client
from tests.factories import NOW


def test_among_matches_exactly_the_given_ids_and_texts_in_one_parameter(owner):
    studio = owner.studio
    db.session.add_all(Client(studio_id=studio.id, email=f"c{i}@example.com", name=f"C {i}",
                              language="en", created_at=NOW) for i in range(1200))
    db.session.commit()
    ids = db.session.scalars(sa.select(Client.id).order_by(Client.id)).all()
    wanted = set(ids[::3]) | {10**9}  # an id that does not exist is simply not found
    query = sa.select(Client.id).where(among(Client.id, wanted))
    assert set(db.session.scalars(query)) == set(ids[::3])
    assert len(query.compile(db.session.get_bind()).params) == 1  # one bound parameter
    emails = ["c5@example.com", "c7@example.com", "it's \"quoted\"@example.com"]
    assert set(db.session.scalars(sa.select(Client.email).where(
        among(Client.email, emails)))) == {"c5@example.com", "c7@example.com"}
    assert db.session.scalars(sa.select(Client.id).where(among(Client.id, []))).all() == []
