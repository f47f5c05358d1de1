"""Periodic jobs, declared in one place with stable ids (redash's practice).

Each job is a few lines: read the clock once, call services with ``now``, commit. Correctness
never depends on APScheduler running a job exactly once: the outbox's unique keys and the
dispatcher's leases make a second scheduler (another process, a restart) harmless.
"""

import logging
import os

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from app import timeutil
from app.extensions import db

log = logging.getLogger(__name__)

JOB_DEFAULTS = {
    "coalesce": True,  # a backlog of missed runs becomes one run
    "max_instances": 1,  # never two runs of a job at once in one process
    "misfire_grace_time": 300,  # APScheduler's default of 1 s silently drops late runs
}


def mail_cycle(app):
    """Queue the campaign emails that are due, then send what is queued."""
    from app.mailing.dispatch import dispatch

    with app.app_context():
        now = timeutil.now()
        try:
            queue_due_campaign_emails(now)
            result = dispatch(now, worker=f"scheduler-{os.getpid()}")
            if result.sent or result.failed or result.retried:
                log.info("mail cycle: %s", result.summary())
        finally:
            db.session.remove()


def queue_due_campaign_emails(now):
    """The campaign tick: queue the workflow emails that fell due since the last one."""
    from app.workflows.engine import tick

    result = tick(now)
    db.session.commit()
    return result


def recheck_sender_domains(app):
    """Check studios' sender domains again once a day: a DKIM or DMARC record removed since
    takes the studio back to "via Proofsheet" before receivers start refusing its mail."""
    from app.mailing.sender_domains import recheck_due

    with app.app_context():
        try:
            checked = recheck_due(app.config, timeutil.now())
            db.session.commit()
            if checked:
                log.info("sender domains: %s checked", checked)
        finally:
            db.session.remove()


def sms_cycle(app):
    """Send the texts that are due (the SMS outbox)."""
    from app.sms.dispatch import dispatch_sms

    with app.app_context():
        try:
            result = dispatch_sms(timeutil.now(), worker=f"scheduler-{os.getpid()}")
            if result.sent or result.failed or result.retried:
                log.info(
                    "sms cycle: sent %s, retried %s, failed %s", result.sent, result.retried, result.failed
                )
        finally:
            db.session.remove()


# The worker pool of this scheduler process, started at the first photo and kept (starting a
# process per core takes a second; a school day brings thousands of photos).
_photo_pool = None
# One run processes photos until none is waiting, for at most this long, then lets the next run
# (a few seconds later) go on: a long backlog never blocks the scheduler's other jobs' thread.
PHOTO_RUN_SECONDS = 50


def photo_processing(app):
    """Process the photos waiting to be (verify, upright, previews) in this process's worker pool."""
    from concurrent.futures.process import BrokenProcessPool

    from app.galleries.processing import make_worker_pool, process_pending

    global _photo_pool
    with app.app_context():
        try:
            started = timeutil.now()
            while True:
                if _photo_pool is None:
                    _photo_pool = make_worker_pool(app)
                try:
                    result = process_pending(
                        timeutil.now(), executor=_photo_pool, limit=4 * (os.cpu_count() or 1)
                    )
                except BrokenProcessPool:
                    # A worker died (killed for its memory, say): a new pool next run; the photos
                    # it held are claimed again when their lease runs out.
                    log.exception("photo processing: the worker pool broke")
                    _photo_pool.shutdown(wait=False, cancel_futures=True)
                    _photo_pool = None
                    break
                if result.ready or result.failed:
                    log.info("photo processing: %s ready, %s failed", result.ready, result.failed)
                done = not (result.ready or result.failed or result.lost)
                if done or (timeutil.now() - started).total_seconds() > PHOTO_RUN_SECONDS:
                    break
        finally:
            db.session.remove()


def remove_stale_uploads(app):
    """Forget upload sessions untouched for a day (a closed tab) and remove their partial files."""
    from app.galleries.uploads import remove_files, remove_stale_sessions

    with app.app_context():
        try:
            paths = remove_stale_sessions(timeutil.now())
            db.session.commit()
            remove_files(paths)  # only once the rows are surely gone
            if paths:
                log.info("uploads: %s stale sessions removed", len(paths))
        finally:
            db.session.remove()


JOBS = [
    # (stable id, function, seconds between runs)
    ("mail-cycle", mail_cycle, 60),
    ("sender-domains", recheck_sender_domains, 3600),
    ("sms-cycle", sms_cycle, 60),
    ("photo-processing", photo_processing, 5),  # also run at once by each finished upload
    ("stale-uploads", remove_stale_uploads, 3600),
]


def _add_jobs(scheduler, app):
    for job_id, function, seconds in JOBS:
        scheduler.add_job(
            function,
            "interval",
            seconds=seconds,
            args=[app],
            id=job_id,
            replace_existing=True,
            next_run_time=timeutil.now(),
        )


def start_background_scheduler(app):
    """The scheduler inside the web process (embedded default)."""
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    _add_jobs(scheduler, app)
    scheduler.start()
    # A finished upload wakes the photo processing job of this process (processing.kick).
    app.extensions["proofsheet_scheduler"] = scheduler
    return scheduler


def run_blocking_scheduler(app):
    """The scheduler as its own process (`flask scheduler run`), for production."""
    scheduler = BlockingScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    _add_jobs(scheduler, app)
    try:
        scheduler.start()
    finally:
        if _photo_pool is not None:
            _photo_pool.shutdown(wait=False, cancel_futures=True)
