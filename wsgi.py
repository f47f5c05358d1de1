"""WSGI entry point: `gunicorn wsgi:app`."""

from app import create_app
from app.galleries.storage import clean_at_start
from app.timeutil import now

app = create_app()
clean_at_start(app, now())  # a process start, not create_app's business (it has no side effects)
