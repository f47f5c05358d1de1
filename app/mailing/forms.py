"""The client's email preferences (public, reached by a signed link)."""

from flask_wtf import FlaskForm


class ResubscribeForm(FlaskForm):
    """Re-subscribing has no fields: the signed token names the address. The CSRF token keeps
    another site from re-subscribing someone who unsubscribed (unsubscribing itself is exempt,
    RFC 8058's one-click POST carries none)."""
