"""The one bundle of dependencies every adapter, command and job receives, built by the composition
root (`bot/runtime/compose.py`). It lives apart from the root so the kernel never imports the root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.fairness import FairScheduler
from bot.inbox import Replay
from bot.matching import Matcher
from bot.matching.encoder import UniversalSentenceEncoder
from bot.metrics import Metrics
from bot.ports import Clock, Encoder, GroupChat, Notifier, SystemClock
from storage.db import SessionFactory


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    clock: Clock = field(default_factory=SystemClock)
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    # platform -> (deep-link payload -> URL opening our bot there, or None while not known yet);
    # adapters register theirs (Telegram: t.me/<bot>?start=<payload>), invites use them
    links: dict[str, Callable[[str], str | None]] = field(default_factory=dict)
    # sentence vectors of posts, made when a post is saved or imported (loads its model on first use)
    encoder: Encoder = field(default_factory=UniversalSentenceEncoder)
    # platform -> (workspace, user ids -> the address of their group chat), for platforms that have one
    group_chats: dict[str, GroupChat] = field(default_factory=dict)
    # one per process: keeps each community's vector index in memory (bot/matching)
    matcher: Matcher = field(default_factory=Matcher)
    # fair turns for the work after an acknowledgement: one person's flood never delays another
    fairness: FairScheduler = field(default_factory=FairScheduler)
    # platform -> how a stored incoming event is processed again (bot/inbox.py); adapters register theirs
    inbox: dict[str, Replay] = field(default_factory=dict)
    # counters and histograms of this process, and the database gauges (bot/metrics.py)
    metrics: Metrics = field(default_factory=Metrics.create)
