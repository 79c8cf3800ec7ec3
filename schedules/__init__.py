"""APScheduler jobs and the delivery outbox."""
