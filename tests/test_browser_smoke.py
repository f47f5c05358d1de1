import pytest

pytestmark = pytest.mark.browser


def test_live_server_serves_pages_to_chromium(live_server, page):
    response = page.goto(live_server.url + "/login")
    assert response.status == 200
