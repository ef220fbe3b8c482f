"""Scheduled jobs (APScheduler) and the durable outbox's delivery worker."""
