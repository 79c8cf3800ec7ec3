"""A large generated community for the pictures' tests and benchmark: organisations in many cities,
offers and needs written from the topic taxonomy in seven languages, and a recorded round whose
matches went to every stage."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from bot.config import SUPPORTED_LANGUAGES
from bot.matching import Matcher
from bot.ports import Clock
from bot.topics import TOPICS
from storage.models import Match, MatchStatus, Organisation, OrganisationKind, Post, PostKind
from storage.queries import default_community

CITIES = (
    "Amsterdam",
    "Barcelona",
    "Belo Horizonte",
    "Berlin",
    "Bilbao",
    "Bologna",
    "Bordeaux",
    "Braga",
    "Brussels",
    "Buenos Aires",
    "Curitiba",
    "Dublin",
    "Gdańsk",
    "Guadalajara",
    "Kraków",
    "Lisboa",
    "Lyon",
    "Madrid",
    "Milano",
    "Montréal",
    "Nantes",
    "Napoli",
    "Porto",
    "Québec",
    "Recife",
    "Rotterdam",
    "San Francisco",
    "São Paulo",
    "Sevilla",
    "Torino",
    "Utrecht",
    "Valencia",
    "Warszawa",
    "Wrocław",
    "Zaragoza",
    "Ciudad de México",
)
STAGES = (MatchStatus.accepted, MatchStatus.introduced, MatchStatus.met, MatchStatus.not_useful, MatchStatus.declined)
INTRODUCED = (MatchStatus.introduced, MatchStatus.met, MatchStatus.not_useful)
SEED = 20261129


def large_community(session: Session, matcher: Matcher, clock: Clock, *, organisations: int = 1000) -> int:
    """Fill the default community; returns its id. Deterministic for a given size."""
    rng = random.Random(SEED)
    community = default_community(session=session)
    assert community.id is not None
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(CITIES))]  # some big cities, many small ones
    rows = [
        Organisation(
            community_id=community.id,
            name=f"{rng.choice(('Cooperativa', 'Fundacja', 'City of', 'Réseau', 'Stichting', 'Associação'))} {n}",
            kind=rng.choice(list(OrganisationKind)),
            city=rng.choices(CITIES, weights)[0],
        )
        for n in range(organisations)
    ]
    session.add_all(rows)
    session.flush()
    now = clock.now() - timedelta(days=30)
    posts = [
        _post(rng, community.id, organisation.id or 0, kind, number, now)
        for number, organisation in enumerate(rows)
        for kind in _kinds(rng)
    ]
    session.exec(insert(Post), params=posts)  # type: ignore[call-overload]
    session.flush()
    matcher.record_round(session, matcher.run_round(session, community.id))
    _progress(session, rng, community.id, clock.now())
    return community.id


def _kinds(rng: random.Random) -> list[PostKind]:
    return [PostKind.offer] * rng.choice((0, 1, 1, 2)) + [PostKind.need] * rng.choice((0, 1, 1))


def _post(
    rng: random.Random, community: int, organisation: int, kind: PostKind, number: int, now: datetime
) -> dict[str, Any]:
    language = rng.choice(SUPPORTED_LANGUAGES)
    topics = rng.sample(TOPICS, rng.choice((1, 2)))
    keywords = [word for topic in topics for word in topic.keywords.get(language, ())]
    text = " ".join(rng.sample(keywords, min(4, len(keywords))))
    return {
        "community_id": community,
        "organisation_id": organisation,
        "ref": f"{kind.value}-{number}-{rng.randrange(10**6)}",
        "kind": kind.value,
        "title": f"{topics[0].label(language)}: {text}"[:120],
        "description": text,
        "language": language,
        "topics": [topic.slug for topic in topics],
        "status": "open",
        "created_at": now,
        "updated_at": now,
    }


def _progress(session: Session, rng: random.Random, community: int, now: datetime) -> None:
    """About a third of the suggestions move on, to each later stage."""
    matches = session.exec(select(Match).where(Match.community_id == community).order_by(col(Match.id))).all()
    for match in matches:
        if rng.random() < 0.35:
            match.status = rng.choice(STAGES)
            match.introduced_at = now if match.status in INTRODUCED else None
            session.add(match)
    session.flush()
