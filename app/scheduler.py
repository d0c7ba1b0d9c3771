"""APScheduler runs each job of app.jobs.JOBS as a short periodic tick; one instance at a time, missed runs coalesced."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from app.jobs import JOBS, Job
from app.logs import log_context
from app.runtime import Runtime

log = logging.getLogger(__name__)


def _runner(job: Job, runtime: Runtime, scheduler: BaseScheduler):
    def run() -> None:
        try:
            with log_context(job=job.name):
                counts = job.run(runtime)
            if any(counts.values()):
                log.info("tick %s: %s", job.name, ", ".join(f"{k}={v}" for k, v in counts.items() if v))
            # New outbox rows wake the outbox at once rather than waiting for its next interval: this is what keeps
            # "status change seen -> ESP accepted" well under the outbox interval.
            if job.queued_key and counts.get(job.queued_key):
                _wake(scheduler, "outbox")
        except Exception:  # a failing tick is logged and tried again next interval; the scheduler keeps running
            log.exception("tick %s failed", job.name)
    return run


def _wake(scheduler: BaseScheduler, name: str) -> None:
    job = scheduler.get_job(name)
    if job is not None:
        job.modify(next_run_time=datetime.now(timezone.utc))


def build_scheduler(runtime: Runtime, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
    for job in JOBS:
        if job.enabled_setting and not runtime.config.get(job.enabled_setting):
            continue
        seconds: Any = runtime.config.get(job.interval_setting, job.interval_default) if job.interval_setting else job.interval_default
        scheduler.add_job(_runner(job, runtime, scheduler), "interval", seconds=float(seconds), id=job.name,
                          name=job.name, max_instances=1, coalesce=True, misfire_grace_time=None)
    return scheduler
