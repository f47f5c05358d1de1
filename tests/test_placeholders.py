"""Filling a template split once at its placeholders gives exactly what the regular-expression
substitution gives, for any text and values (the tick relies on it for every message)."""

from hypothesis import given
from hypothesis import strategies as st

from app.mailing.placeholders import Template, substitute

NAMES = st.sampled_from(["client_name", "gallery_link", "x1", "order_total", "unknown_one"])
PIECES = st.one_of(
    st.text(max_size=12),
    NAMES.map(lambda name: f"%{name}%"),
    st.sampled_from(
        [
            "%",
            "%%",
            "%A%",
            "%1a%",
            "100 %",
            "%client_name",
            # Literal braces: the template is a format string inside.
            "{",
            "}}",
            "{client_name}",
            "{0}",
            "{%x1%}",
        ]
    ),
)
VALUES = st.dictionaries(
    st.sampled_from(["client_name", "gallery_link", "x1", "order_total"]),
    st.text(max_size=10) | st.integers(),
)


@given(st.lists(PIECES, max_size=12).map("".join), VALUES, st.booleans())
def test_template_fill_equals_substitute(text, values, html):
    assert Template(text).fill(values, html=html) == substitute(text, values, html=html)


def test_values_are_escaped_in_html_and_unknown_names_kept():
    template = Template("<p>Hi %client_name%, %nope% 100 % off</p>")
    assert template.fill({"client_name": "<b>Zoë</b>"}) == (
        "<p>Hi &lt;b&gt;Zoë&lt;/b&gt;, %nope% 100 % off</p>"
    )
    assert template.fill({"client_name": "<b>"}, html=False) == "<p>Hi <b>, %nope% 100 % off</p>"


@given(st.lists(PIECES, max_size=12).map("".join), VALUES, VALUES, st.booleans())
def test_partial_then_fill_equals_fill_at_once(text, shared, own, html):
    own = {name: value for name, value in own.items() if name not in shared}
    template = Template(text)
    assert template.partial(shared, html=html).fill(own, html=html) == template.fill(
        {**shared, **own}, html=html
    )
    assert template.partial(shared, html=html).names == template.names - set(shared)


def test_a_shared_value_that_looks_like_a_placeholder_is_not_filled_again():
    template = Template("<p>%gallery_title% for %client_name%</p>").partial(
        {"gallery_title": "50%client_name%"}
    )
    assert template.fill({"client_name": "Zoë"}) == "<p>50%client_name% for Zoë</p>"
