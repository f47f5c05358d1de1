"""The plain-text part of a message, made from its HTML (inscriptis, as laid out on screen).

Two things inscriptis does not do the way a mail reader needs: it pads every line of a layout
table with spaces to the table's width (trailing spaces, and indentation from the layout's
cells), and it shows links as Markdown, ``[label](url)``, which plain-text readers show as is.
Here a link reads ``label (url)``, lines carry no padding, and runs of blank lines become one.
"""

import re

from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError
from lxml.html import document_fromstring

_CONFIG = ParserConfig(display_links=False)  # links are written into the tree beforehand
_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_text(html):
    """The text of ``html`` for a text/plain part, ending in one line break."""
    if not html or not html.strip():
        return "\n"
    try:
        tree = document_fromstring(html)
    except ParserError:  # nothing but a comment or whitespace inside tags
        return "\n"
    _write_link_targets(tree)
    text = Inscriptis(tree, _CONFIG).get_text()
    lines = (line.strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"


def _write_link_targets(tree):
    """``<a href="u">label</a>`` becomes ``label (u)``; a link whose label is its address (or
    an e-mail address's) stays as it is. Targets may be %placeholders%, filled in later."""
    for link in tree.iter("a"):
        target = (link.get("href") or "").strip()
        shown = target.removeprefix("mailto:")
        if not target or target.startswith("#"):
            continue
        label = " ".join(link.text_content().split())
        if label in (target, shown):
            continue
        link.tail = f" ({shown})" + (link.tail or "")
