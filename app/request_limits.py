"""How much a request may carry: a small body everywhere, a large one only where files are sent.

Every route accepts ``MAX_CONTENT_LENGTH`` (1 MB by default: forms, log-ins, the rich-text editors);
the routes that receive files are listed in ``UPLOAD_LIMITS`` with a config key of their own. A
request over its limit gets the 413 page (or JSON for the endpoints that answer JSON), naming
the limit. Rich-text fields have a length limit of their own (``rich_text_within_limit``), checked
as a form error well below the request limit.
"""

from flask import Request as FlaskRequest
from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError

# Endpoint -> the config key of its request limit. Each of these routes checks its own files'
# sizes with a clear message, so its request limit only stops what no single file could make.
UPLOAD_LIMITS = {
    "galleries_admin.upload": "MAX_UPLOAD_REQUEST_BYTES",
    # A piece of a resumable upload: checked against uploads.MAX_CHUNK_BYTES by the route, but it
    # must get past the 1 MB default first (CSRF reads the body early).
    "galleries_admin.upload_chunk": "MAX_UPLOAD_REQUEST_BYTES",
    "galleries_admin.cards": "MAX_FILE_REQUEST_BYTES",  # the CSV import (labels, 1 MB)
    "galleries_admin.upload_logo": "MAX_FILE_REQUEST_BYTES",  # the studio's logo (5 MB)
    "workflows.upload_image": "MAX_FILE_REQUEST_BYTES",  # an image in a message (5 MB)
    "shop_admin.review_message": "MAX_FILE_REQUEST_BYTES",  # attachments (10 MB each)
}
# Endpoints whose callers read JSON (the editor's image upload uses fetch without an Accept).
JSON_ENDPOINTS = {"workflows.upload_image"}


class LimitedRequest(FlaskRequest):
    """A request whose size limit depends on its route.

    The limit is looked up from the matched endpoint, which Flask knows before any
    ``before_request`` hook runs: CSRF protection reads the form in a hook of its own, so a hook
    of ours setting the limit would have to be sure to run first.
    """

    @property
    def max_content_length(self):
        if self._max_content_length is not None:  # set for this request on purpose
            return self._max_content_length
        key = UPLOAD_LIMITS.get(self.endpoint) if current_app else None
        return current_app.config[key] if key else super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value):
        self._max_content_length = value


def init_app(app):
    """Use route-dependent request limits and answer 413 with the site's page."""
    app.request_class = LimitedRequest
    app.register_error_handler(RequestEntityTooLarge, too_large)


def megabytes(byte_count):
    """A limit for people, in MB: 1 MB, 512 MB, 0.5 MB."""
    return _("%(n)s MB", n=f"{byte_count / (1024 * 1024):.3g}")


def too_large_message():
    """What this route accepts, in words."""
    limit = request.max_content_length
    if limit is None:
        return _("This request is too large.")
    return _("This is too large to send: this page accepts up to %(limit)s at once.", limit=megabytes(limit))


def too_large(_error, message=None):
    """A request over its route's limit: a clear 413 page, or JSON where the caller reads JSON."""
    message = message or too_large_message()
    if request.endpoint in JSON_ENDPOINTS or _prefers_json():
        return jsonify(error=message), 413
    return render_template("errors/too_large.html", message=message), 413


def _prefers_json():
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


# ------------------------------------------------------------------ rich text


def rich_text_within_limit(form, field):
    """WTForms validator: the HTML of a rich-text field is at most MAX_RICH_TEXT_BYTES (UTF-8).

    Checked on what was submitted, before sanitizing: pasted images arrive as huge data URLs.
    """
    limit = current_app.config["MAX_RICH_TEXT_BYTES"]
    size = len((field.data or "").encode("utf-8"))
    if size > limit:
        raise ValidationError(
            _l(
                "The message is too long: %(size)s of HTML, the limit is %(limit)s. Shorten it, or "
                "insert pictures with the image button instead of pasting them.",
                size=_kilobytes(size),
                limit=_kilobytes(limit),
            )
        )


def _kilobytes(byte_count):
    return _("%(n)s kB", n=f"{byte_count / 1000:.0f}")
