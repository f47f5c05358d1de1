"""Take the README's screenshots: the demo studio in Chromium (python scripts/screenshots.py)."""

import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app, timeutil  # noqa: E402
from app.demo import DEMO_EMAIL, DEMO_PASSWORD, create_demo  # noqa: E402
from app.extensions import db  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def _emailed_code(app, email):
    """The sign-in code a parent reads in their email (here: from the outbox)."""
    import re

    import sqlalchemy as sa

    from app.mailing.models import OutboxMessage

    with app.app_context():
        text = db.session.scalar(
            sa.select(OutboxMessage.text)
            .where(OutboxMessage.recipient == email, OutboxMessage.is_sensitive.is_(True))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return re.search(r"^\s*(\d{6})\s*$", text, re.M).group(1)


def main():
    folder = tempfile.mkdtemp()
    app = create_app(
        {"SECRET_KEY": "screens", "BASE_URL": "http://127.0.0.1:5077", "MAIL_SUPPRESS_SEND": True},
        instance_path=folder,
    )
    with app.app_context():
        upgrade()
        create_demo(timeutil.now())
        db.session.commit()
    server = make_server("127.0.0.1", 5077, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto("http://127.0.0.1:5077/login")
        page.fill("input[name=email]", DEMO_EMAIL)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/**")
        page.goto("http://127.0.0.1:5077/admin/workflows/")
        page.locator("a", has_text="Spring 2027 school").first.click()
        page.screenshot(path=str(OUT / "workflow.png"))
        page.get_by_role("link", name="timeline").first.click()
        page.screenshot(path=str(OUT / "timeline.png"), full_page=True)
        client = browser.new_page(viewport={"width": 1280, "height": 860})
        client.goto("http://127.0.0.1:5077/c/DEMO1KDGN")
        client.fill("input[name=name]", "Julie Moreau")
        client.fill("input[name=email]", "julie.moreau@example.com")
        client.get_by_role("button", name="See my photos").click()
        client.fill("input[name=code]", _emailed_code(app, "julie.moreau@example.com"))
        client.get_by_role("button", name="Continue").click()
        client.wait_for_load_state("networkidle")
        client.screenshot(path=str(OUT / "client-gallery.png"))
        page.goto("http://127.0.0.1:5077/admin/clients/?q=julie")
        page.get_by_role("link", name="Julie Moreau").click()
        page.screenshot(path=str(OUT / "client-page.png"), full_page=True)
        browser.close()
    server.shutdown()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
