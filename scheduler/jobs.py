"""APScheduler 3 set-up: the jobs from ``app.yaml`` plus Learnbot's housekeeping.

Every replica may run the same schedule: jobs only *plan* messages through the outbox, whose
idempotency keys make a second run of the same job a no-op.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core import Learnbot
from scheduler.metrics import Metrics

logger = logging.getLogger(__name__)

HOUSEKEEPING: dict[str, IntervalTrigger] = {
    "expire_dialogs": IntervalTrigger(minutes=1),
    "forget_seen_events": IntervalTrigger(hours=6),
}


class UnknownJob(ValueError):
    pass


def check_jobs(app: Learnbot) -> None:
    """Every schedule in app.yaml names a job some feature registered."""
    problems = [
        f"schedules[{index}].job: no job named '{schedule.job}' "
        f"(known jobs: {', '.join(sorted(app.router.jobs))})"
        for index, schedule in enumerate(app.config.schedules)
        if schedule.job not in app.router.jobs
    ]
    if problems:
        raise UnknownJob("\n".join(problems))


async def _run(app: Learnbot, job: str, args: dict[str, Any], metrics: Metrics | None = None) -> None:
    metrics = metrics or Metrics()
    outcome = "ok"
    try:
        with metrics.job_seconds.labels(job).time():
            await app.run_job(job, args)
    except Exception:
        outcome = "failed"
        logger.exception("scheduled job %s failed", job)
    finally:
        metrics.job_runs.labels(job, outcome).inc()


def build_scheduler(app: Learnbot, metrics: Metrics | None = None) -> AsyncIOScheduler:
    check_jobs(app)
    metrics = metrics or Metrics()
    scheduler = AsyncIOScheduler()
    for schedule in app.config.schedules:
        scheduler.add_job(
            _run,
            CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone),
            args=[app, schedule.job, schedule.args, metrics],
            id=schedule.name,
            name=schedule.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    for job, trigger in HOUSEKEEPING.items():
        if job in app.router.jobs:
            scheduler.add_job(
                _run,
                trigger,
                args=[app, job, {}, metrics],
                id=f"housekeeping:{job}",
                coalesce=True,
                max_instances=1,
            )
    return scheduler


def find_schedule(app: Learnbot, name: str) -> tuple[str, dict[str, Any]]:
    """``run-job NAME`` accepts a schedule name from app.yaml or a job name."""
    for schedule in app.config.schedules:
        if schedule.name == name:
            return schedule.job, dict(schedule.args)
    if name in app.router.jobs:
        return name, {}
    known = sorted({s.name for s in app.config.schedules} | set(app.router.jobs))
    raise UnknownJob(f"no schedule or job named '{name}' (known: {', '.join(known)})")
