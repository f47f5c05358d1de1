"""Workflow services: duplicate templates and workflows, add, rename, delete, assign; emails.

Services take ``now``, flush and never commit.
"""

import sqlalchemy as sa
from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l

from app.accounts.models import Studio
from app.extensions import db
from app.galleries.models import Gallery
from app.i18n import with_variables
from app.mailing.wire import has_line_break
from app.shop.models import Promotion
from app.workflows import translations
from app.workflows.describe import TRIGGER_LABELS
from app.workflows.models import (
    GalleryWorkflow,
    Purpose,
    RecipientFilter,
    Rule,
    Trigger,
    Workflow,
    WorkflowEmail,
    WorkflowEmailTranslation,
)
from app.workflows.templates import TEMPLATES, render_body
from app.workflows.variables import (
    PROMOTION_VARIABLES,
    REGISTRY,
    not_offered,
    sanitize_body,
    unknown_variables,
    variables_in,
)

# An email's settings: what the email form hands over (``EmailForm.values``) and ``save_email`` keeps.
EMAIL_FIELDS = (
    "trigger",
    "rule",
    "days",
    "send_time",
    "recipient_filter",
    "purpose",
    "subject",
    "body_html",
    "sms_enabled",
    "sms_body",
)


def default_purpose(trigger, rule, recipient_filter):
    """The purpose a new email most likely has: the gallery is ready (sale start or
    registration, at once) and the archive notice are service; a reminder to those who have
    not ordered, a promotion, a cart nudge and everything else are marketing."""
    if recipient_filter == RecipientFilter.NOT_ORDERED:
        return Purpose.MARKETING
    if trigger == Trigger.ARCHIVE:
        return Purpose.SERVICE
    if trigger in (Trigger.SALE_START, Trigger.REGISTRATION) and rule == Rule.INSTANT:
        return Purpose.SERVICE
    return Purpose.MARKETING


def service_defaults():
    """Every "trigger/rule/filter" whose default purpose is service, for the form's script (the
    same rule as ``default_purpose``, not a copy of it)."""
    return [
        f"{trigger}/{rule}/{audience}"
        for trigger in Trigger
        for rule in Rule
        for audience in RecipientFilter
        if default_purpose(trigger, rule, audience) == Purpose.SERVICE
    ]


def email_settings_problems(trigger, rule, days, send_time, recipient_filter, subject, body_html):
    """{field: message} for every rule an email's settings break (empty when valid)."""
    problems = {}
    if rule == Rule.DAYS_BEFORE and not Trigger(trigger).is_date:
        problems["rule"] = _l(
            "“Days before” only works with a date: sale start, sale end, archiving or promotion expiry."
        )
    if days is None or not 0 <= days <= 365:
        problems["days"] = _l("Days must be between 0 and 365.")
    if rule != Rule.INSTANT and send_time is None:
        problems["send_time"] = _l("Choose the time of day to send this email.")
    if recipient_filter == RecipientFilter.NOT_ORDERED and trigger == Trigger.ORDER:
        problems["recipient_filter"] = _l(
            "An email sent after an order always goes to a client who ordered: choose “all clients”."
        )
    return problems | text_problems(subject, body_html)


def text_problems(subject, body_html):
    """{"subject" or "body_html": message} for what is wrong with an email's text, in any of
    its languages: no subject, a subject on two lines, an unknown %variable%."""
    problems = {}
    if subject is None or not subject.strip():
        problems["subject"] = _l("Please write a subject.")
    elif has_line_break(subject):
        problems["subject"] = _l("The subject must be on one line.")
    unknown = unknown_variables(subject or "", body_html or "")
    if unknown:
        names = ", ".join(f"%{name}%" for name in unknown)
        target = "subject" if unknown_variables(subject or "") else "body_html"
        problems.setdefault(target, _l("Unknown variable: %(names)s.", names=names))
    return problems


def _copy_email(source, position, now):
    return WorkflowEmail(
        trigger=source.trigger,
        rule=source.rule,
        days=source.days,
        send_time=source.send_time,
        recipient_filter=source.recipient_filter,
        purpose=source.purpose,
        subject=str(source.subject),
        body_html=sanitize_body(source.body_html),
        sms_enabled=source.sms_enabled,
        sms_body=source.sms_body,
        position=position,
        created_at=now,
        updated_at=now,
    )


def duplicate_template(studio, key, title, now):
    """A studio workflow copied from a predefined template, written in the studio's language,
    with a translation in each of its other client languages (from the catalogues)."""
    template = TEMPLATES[key]
    with force_locale(studio.language):
        workflow = Workflow(
            studio_id=studio.id, title=title.strip(), template_key=key, created_at=now, updated_at=now
        )
        for position, email in enumerate(template.emails):
            workflow.emails.append(
                WorkflowEmail(
                    trigger=email.trigger,
                    rule=email.rule,
                    days=email.days,
                    send_time=email.send_time,
                    recipient_filter=email.recipient_filter,
                    purpose=email.purpose,
                    subject=with_variables(email.subject),
                    body_html=sanitize_body(render_body(email.body_html)),
                    position=position,
                    created_at=now,
                    updated_at=now,
                )
            )
    db.session.add(workflow)
    db.session.flush()
    for language in translations.other_languages(studio):
        with force_locale(language):
            db.session.add_all(
                WorkflowEmailTranslation(
                    email_id=copy.id,
                    language=language,
                    subject=with_variables(email.subject),
                    body_html=sanitize_body(render_body(email.body_html)),
                    updated_at=now,
                )
                for copy, email in zip(workflow.emails, template.emails, strict=True)
            )
    db.session.flush()
    return workflow


def duplicate_workflow(source, title, now):
    """A copy of one of the studio's workflows with every email and its translations."""
    workflow = Workflow(
        studio_id=source.studio_id,
        title=title.strip(),
        template_key=source.template_key,
        created_at=now,
        updated_at=now,
    )
    workflow.emails = [_copy_email(email, position, now) for position, email in enumerate(source.emails)]
    db.session.add(workflow)
    db.session.flush()
    translations.copy_translations(
        {email.id: copy for email, copy in zip(source.emails, workflow.emails, strict=True)}, now
    )
    return workflow


def create_workflow(studio, title, now):
    workflow = Workflow(studio_id=studio.id, title=title.strip(), created_at=now, updated_at=now)
    db.session.add(workflow)
    db.session.flush()
    return workflow


def rename_workflow(workflow, title, now):
    workflow.title, workflow.updated_at = title.strip(), now


def galleries_using(workflow_id):
    return db.session.scalars(
        sa.select(Gallery)
        .join(GalleryWorkflow, GalleryWorkflow.gallery_id == Gallery.id)
        .where(GalleryWorkflow.workflow_id == workflow_id)
        .order_by(Gallery.title)
    ).all()


def delete_workflow(workflow):
    """Delete a workflow; the galleries using it are left without one (their assignment goes)."""
    db.session.execute(sa.delete(GalleryWorkflow).where(GalleryWorkflow.workflow_id == workflow.id))
    db.session.delete(workflow)
    db.session.flush()


def save_email(workflow, email, values, now):
    """Create (``email`` None) or update an email from validated ``values``; sanitizes the body."""
    if email is None:
        email = WorkflowEmail(created_at=now, position=len(workflow.emails))
        workflow.emails.append(email)
    for name in EMAIL_FIELDS:
        setattr(email, name, values[name])
    if email.rule == Rule.INSTANT:
        email.days, email.send_time = 0, None
    email.subject = email.subject.strip()
    email.body_html = sanitize_body(email.body_html)
    email.sms_enabled, email.sms_body = bool(email.sms_enabled), translations.plain_text(email.sms_body)
    email.updated_at = workflow.updated_at = now
    db.session.flush()
    return email


def delete_email(workflow, email, now):
    workflow.emails.remove(email)
    workflow.updated_at = now
    db.session.flush()


class PostalAddressMissing(Exception):
    """Campaign emails show the studio's postal address: no workflow is used without one."""

    def __str__(self):
        return str(
            _l(
                "Add your studio's postal address first (Settings → Studio): every "
                "campaign email shows it, as the law and Gmail's rules for bulk mail "
                "require."
            )
        )


def assign_workflow(gallery, workflow, now):
    """Make ``workflow`` (or None) the gallery's workflow; ``PostalAddressMissing`` when the
    studio has no postal address yet."""
    if workflow is not None and not (db.session.get(Studio, gallery.studio_id).postal_address or "").strip():
        raise PostalAddressMissing()
    current = db.session.get(GalleryWorkflow, gallery.id)
    if workflow is None:
        if current is not None:
            db.session.delete(current)
    elif current is None:
        db.session.add(GalleryWorkflow(gallery_id=gallery.id, workflow_id=workflow.id, assigned_at=now))
    elif current.workflow_id != workflow.id:
        current.workflow_id, current.assigned_at = workflow.id, now
    db.session.flush()


def gallery_workflow(gallery_id):
    assignment = db.session.get(GalleryWorkflow, gallery_id)
    return assignment.workflow if assignment else None


def studio_workflows(studio_id):
    """The studio's workflows with their email and gallery counts, newest saved first."""
    email_count = (
        sa.select(sa.func.count(WorkflowEmail.id))
        .where(WorkflowEmail.workflow_id == Workflow.id)
        .scalar_subquery()
    )
    gallery_count = (
        sa.select(sa.func.count(GalleryWorkflow.gallery_id))
        .where(GalleryWorkflow.workflow_id == Workflow.id)
        .scalar_subquery()
    )
    return db.session.execute(
        sa.select(Workflow, email_count, gallery_count)
        .where(Workflow.studio_id == studio_id)
        .order_by(Workflow.updated_at.desc(), Workflow.id.desc())
    ).all()


# ------------------------------------------------------------------ warnings of the editor


def _promotion_may_fill(workflow, now):
    """Whether a gallery using ``workflow`` has a promotion running or still to come (one
    query, whatever the number of galleries)."""
    return db.session.scalar(
        sa.select(
            sa.exists().where(
                Promotion.gallery_id == GalleryWorkflow.gallery_id,
                GalleryWorkflow.workflow_id == workflow.id,
                Promotion.studio_id == workflow.studio_id,
                Promotion.removed_at.is_(None),
                Promotion.ends_at > now,
            )
        )
    )


def email_warnings(workflow, trigger, subject, body_html, now):
    """What the photographer should know before this email goes out, without refusing it:
    variables that the trigger does not fill, promotion variables with no promotion to fill
    them. A list of messages (empty when all is well)."""
    used = variables_in(f"{subject or ''} {body_html or ''}")
    warnings = []
    for filled_by, names in _by_offering_triggers(
        not_offered(trigger, subject or "", body_html or "")
    ).items():
        warnings.append(
            lazy_ngettext(
                "%(names)s would be empty in this email: only “%(triggers)s” emails fill it.",
                "%(names)s would be empty in this email: only “%(triggers)s” emails fill them.",
                len(names),
                names=_names(names),
                triggers="”, “".join(str(TRIGGER_LABELS[t]) for t in filled_by),
            )
        )
    promotion = [name for name in used if name in PROMOTION_VARIABLES]
    if promotion and trigger != Trigger.PROMOTION_EXPIRY and not _promotion_may_fill(workflow, now):
        warnings.append(
            lazy_ngettext(
                "%(names)s is filled only while a promotion runs, and no gallery using this "
                "workflow has one running or planned: write the text so that it reads well "
                "without it, or add a promotion.",
                "%(names)s are filled only while a promotion runs, and no gallery using this "
                "workflow has one running or planned: write the text so that it reads well "
                "without them, or add a promotion.",
                len(promotion),
                names=_names(promotion),
            )
        )
    return warnings


def _by_offering_triggers(names):
    """{the triggers that offer them (in the builder's order): names}, names in order of use
    and each once."""
    grouped = {}
    for name in dict.fromkeys(names):
        offering = tuple(t for t in TRIGGER_LABELS if t in REGISTRY[name].triggers)
        grouped.setdefault(offering, []).append(name)
    return grouped


def _names(names):
    return ", ".join(f"%{name}%" for name in names)
