"""Cards from a class list (CSV): one card per child, and with a parent's email the parent is
pre-registered: a client holding the card, registered to the gallery so that its "your photos
are ready" email at the sale start reaches them. They sign in later with the usual emailed
code or link: the import gives them no session, and no consent to news or to texts."""

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _

from app.extensions import db
from app.forms_common import single_line_problem
from app.galleries import clients
from app.galleries.cards import MAX_CARDS_AT_ONCE, MAX_LABEL_LENGTH, create_cards
from app.galleries.models import CardClaim, Client
from app.sms.phone import PhoneRefused, normalize_phone

MAX_PROBLEMS_SHOWN = 50

# Column titles people write, compared without case, spaces or punctuation ("E-mail" = "email").
COLUMN_TITLES = {
    "label": {
        "label",
        "name",
        "child",
        "childname",
        "childsname",
        "student",
        "pupil",
        "nom",
        "client",
        "enfant",
        "eleve",
        "élève",
        "namn",
        "barn",
        "elev",
        "kind",
        "schüler",
        "schueler",
        "имя",
        "ребенок",
        "ребёнок",
        "ученик",
    },
    "email": {
        "email",
        "mail",
        "emailaddress",
        "parentemail",
        "parentsemail",
        "courriel",
        "adressemail",
        "epost",
        "epostadress",
        "имейл",
        "почта",
        "электроннаяпочта",
    },
    "phone": {
        "phone",
        "mobile",
        "mobilephone",
        "telephone",
        "tel",
        "phonenumber",
        "parentphone",
        "parentsphone",
        "cell",
        "téléphone",
        "portable",
        "telefon",
        "mobil",
        "mobilnummer",
        "handy",
        "телефон",
    },
    "parent": {
        "parent",
        "parentname",
        "parentsname",
        "guardian",
        "contact",
        "nomduparent",
        "förälder",
        "foralder",
        "vårdnadshavare",
        "eltern",
        "elternteil",
        "родитель",
    },
}


class CardImportError(ValueError):
    """A CSV that cannot be imported; ``problems`` names each bad row. Nothing was created."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class CardRow:
    """One line of the list: a child's card and, optionally, their parent."""

    line: int
    label: str
    email: str | None = None
    phone: str | None = None
    parent_name: str = ""


def rows_from_csv(data, phone_region=None):
    """The rows of an uploaded class list: UTF-8 (with or without BOM), comma, semicolon or tab.

    With a header row, the columns are found by their titles (child's name or label, email,
    phone, parent's name; other columns are ignored); without one, only the first column is
    read, as labels. Every bad row is named (raises ``CardImportError``)."""
    table = _read_table(data)
    columns, has_header = _columns(table[0] if table else [])
    rows, problems = [], []
    # Rows are numbered from the first child, the header row apart (as the cards are).
    for line, cells in enumerate(table[1 if has_header else 0 :], start=1):
        row, row_problems = _row(line, cells, columns, phone_region)
        rows.append(row)
        problems += row_problems
    if not rows and not problems:
        problems.append(_("The file has no labels."))
    if len(rows) > MAX_CARDS_AT_ONCE:
        problems.append(_("At most %(max)d cards at once.", max=MAX_CARDS_AT_ONCE))
    if problems:
        raise CardImportError(_shown(problems))
    return rows


def _shown(problems):
    if len(problems) <= MAX_PROBLEMS_SHOWN:
        return problems
    more = len(problems) - MAX_PROBLEMS_SHOWN
    return problems[:MAX_PROBLEMS_SHOWN] + [_("…and %(num)d more problems.", num=more)]


def _read_table(data):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CardImportError([_("The file is not a UTF-8 text (CSV) file.")]) from None
    if "\x00" in text:
        raise CardImportError([_("The file is not a text (CSV) file.")])
    return list(csv.reader(io.StringIO(text), delimiter=_delimiter(text[:4096])))


def _delimiter(sample):
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:  # one column, or too few rows to tell
        return ";" if sample.count(";") > sample.count(",") else ","


def _title(cell):
    return "".join(ch for ch in cell.lower() if ch.isalnum())


def _columns(first_row):
    """({field: column index}, whether ``first_row`` is a header row)."""
    found = {}
    for index, cell in enumerate(first_row):
        for name, titles in COLUMN_TITLES.items():
            if _title(cell) in titles and name not in found:
                found[name] = index
    if not found:
        return {"label": 0}, False
    found.setdefault("label", 0)
    return found, True


def _cell(cells, columns, name):
    index = columns.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _row(line, cells, columns, phone_region):
    """(the row, its problems)."""
    row = CardRow(line=line, label=_cell(cells, columns, "label"))
    problems = _label_problems(line, row.label)
    email, phone = _cell(cells, columns, "email"), _cell(cells, columns, "phone")
    row.parent_name = _cell(cells, columns, "parent")[:200]
    if row.parent_name and single_line_problem(row.parent_name, "name"):
        problems.append(_("Row %(row)d: a name cannot contain line breaks or control characters.", row=line))
    if (phone or row.parent_name) and not email:
        problems.append(_("Row %(row)d: a parent’s phone or name needs their email address too.", row=line))
    if email:
        try:
            row.email = clients.normalize_email(email)
        except clients.InvalidEmail as error:
            problems.append(_("Row %(row)d: %(problem)s", row=line, problem=str(error)))
    if phone:
        try:
            row.phone = normalize_phone(phone, phone_region)
        except PhoneRefused as error:
            problems.append(_("Row %(row)d: %(problem)s", row=line, problem=str(error)))
    return row, problems


def _label_problems(line, label):
    if not label:
        return [_("Row %(row)d has no label.", row=line)]
    if len(label) > MAX_LABEL_LENGTH:
        return [
            _("Row %(row)d: the label is longer than %(max)d characters.", row=line, max=MAX_LABEL_LENGTH)
        ]
    if single_line_problem(label, "label"):  # a quoted cell may hold a line break
        return [_("Row %(row)d: a label cannot contain line breaks or control characters.", row=line)]
    return []


def import_cards(gallery, studio, rows, now, *, register):
    """One card per row; each row's parent (by email) becomes a client holding the card, and
    with ``register`` is registered to the gallery (its workflow's emails reach them).
    Flushes; returns (cards, how many parents)."""
    cards = create_cards(gallery, [row.label for row in rows], now)
    parents = {}
    for row, card in zip(rows, cards, strict=True):
        if row.email is None:
            continue
        parent = parents.get(row.email) or _parent(studio, row, card.label, now)
        parents[row.email] = parent
        _hold(parent, card, now, register=register)
    db.session.flush()
    return cards, len(parents)


def _parent(studio, row, child, now):
    """The studio's client with this email, made if new. An existing client keeps their name,
    phone and consents: the list only fills in what is missing."""
    client = clients.find_client(studio.id, row.email)
    if client is None:
        client = Client(
            studio_id=studio.id,
            email=row.email,
            # Their name greets them in emails: the child's name says who they are meanwhile.
            name=row.parent_name or _("Parent of %(child)s", child=child),
            language=studio.language,
            created_at=now,
        )
        db.session.add(client)
    if row.phone and not client.phone:
        client.phone = row.phone
    db.session.flush()
    return client


def _hold(client, card, now, *, register):
    if register:
        clients.claim_card(client, card, now, pre_registered=True)  # and registers to the gallery
    elif db.session.get(CardClaim, (client.id, card.id)) is None:
        db.session.add(CardClaim(client_id=client.id, card_id=card.id, claimed_at=now))
