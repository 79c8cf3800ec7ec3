"""The Telegram adapter (python-telegram-bot v22): updates become `Incoming`, replies become HTML
messages with inline keyboards. No business rules live here."""

import os

# PTB 22 warns on every time-period attribute (e.g. RetryAfter.retry_after) unless the process opts
# in to the coming `timedelta` values; we read them as timedelta anyway, so opt in before any use.
os.environ.setdefault("PTB_TIMEDELTA", "true")
