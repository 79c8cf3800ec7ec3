"""The demo partnership: nine partner cities in their own languages and a few SSE actors,
loaded through the importer, safe to load twice."""

from __future__ import annotations

from collections import defaultdict

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.demo import load_demo
from bot.deps import Deps
from bot.runtime.cli import cli
from storage.db import transaction
from storage.models import Organisation, OrganisationKind, Post, PostKind

CITY_LANGUAGES = {
    "Dublin": "en",
    "Guadalajara": "es",
    "Belo Horizonte": "pt",
    "Bilbao": "es",
    "Rotterdam": "nl",
    "Torino": "it",
    "Montréal": "fr",
    "San Francisco": "en",
    "Warszawa": "pl",
}


def _load(deps: Deps) -> int:
    with transaction(deps.sessions) as session:
        return load_demo(session, deps.encoder)


def test_nine_cities_offer_and_need_in_their_own_language(deps: Deps) -> None:
    count = _load(deps)
    assert 30 <= count <= 40
    with deps.sessions() as session:
        organisations = {org.id: org for org in session.exec(select(Organisation)).all()}
        posts = session.exec(select(Post)).all()
    cities = {org.city: org for org in organisations.values() if org.kind == OrganisationKind.city}
    assert set(cities) == set(CITY_LANGUAGES)
    kinds: dict[str, set[PostKind]] = defaultdict(set)
    for post in posts:
        organisation = organisations[post.organisation_id]
        assert post.ref.startswith("demo-")
        assert post.topics, post.ref
        assert post.language == CITY_LANGUAGES.get(post.city or "", post.language)
        if organisation.kind == OrganisationKind.city:
            assert post.language == CITY_LANGUAGES[organisation.city or ""], post.ref
            kinds[organisation.city or ""].add(post.kind)
    assert all(kinds[city] == {PostKind.offer, PostKind.need} for city in CITY_LANGUAGES)
    others = {OrganisationKind.sse_actor, OrganisationKind.partner}
    actors = [org for org in organisations.values() if org.kind in others]
    assert 4 <= len(actors) <= 6
    assert all(any(post.organisation_id == actor.id for post in posts) for actor in actors)


def test_loading_twice_does_not_duplicate(deps: Deps) -> None:
    first = _load(deps)
    assert _load(deps) == first
    with deps.sessions() as session:
        assert len(session.exec(select(Post)).all()) == first
        assert len(session.exec(select(Organisation)).all()) == 15


def test_demo_command(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "es")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(cli, ["demo"], obj={})
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Comunidad de demostración lista: 36 ofertas y necesidades")
