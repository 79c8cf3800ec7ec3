"""Builders shared by the matching and groups tests (no tests here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from storage.models import Member, Organisation, Post, PostKind, PostStatus
from storage.queries import default_community


@dataclass
class World:
    """A community with organisations (one member each) and posts, built step by step."""

    session: Session
    community_id: int = 0
    organisations: dict[str, Organisation] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)

    def __post_init__(self) -> None:
        community = default_community(session=self.session)
        assert community.id is not None
        self.community_id = community.id

    def organisation(self, name: str) -> Organisation:
        if name not in self.organisations:
            organisation = Organisation(community_id=self.community_id, name=name)
            self.session.add(organisation)
            self.session.flush()
            member = Member(community_id=self.community_id, organisation_id=organisation.id, display_name=name)
            self.session.add(member)
            self.session.flush()
            self.organisations[name], self.members[name] = organisation, member
        return self.organisations[name]

    def post(
        self,
        ref: str,
        kind: PostKind,
        organisation: str,
        title: str,
        description: str,
        *,
        language: str = "en",
        status: PostStatus = PostStatus.open,
    ) -> Post:
        owner = self.organisation(organisation)
        assert owner.id is not None
        post = Post(
            community_id=self.community_id,
            organisation_id=owner.id,
            member_id=self.members[organisation].id,
            ref=ref,
            kind=kind,
            title=title,
            description=description,
            language=language,
            status=status,
        )
        self.session.add(post)
        self.session.flush()
        self.posts[ref] = post
        return post

    def need(self, ref: str, organisation: str, title: str, description: str, **options: object) -> Post:
        return self.post(ref, PostKind.need, organisation, title, description, **options)  # type: ignore[arg-type]

    def offer(self, ref: str, organisation: str, title: str, description: str, **options: object) -> Post:
        return self.post(ref, PostKind.offer, organisation, title, description, **options)  # type: ignore[arg-type]


PROCUREMENT_NEED = (
    "Compra pública con cláusulas sociales",
    "Queremos incluir cláusulas sociales en la contratación pública y reservar contratos a empresas sociales.",
)
PROCUREMENT_OFFER = (
    "Social clauses in public procurement",
    "Our tender templates reserve public contracts for social enterprises and score social value in procurement.",
)
HOUSING_OFFER = (
    "Cooperative housing on public land",
    "We lease municipal land to housing cooperatives that build affordable homes for families.",
)
UNRELATED_NEED = (
    "Choir rehearsal rooms",
    "Our amateur choir looks for a piano and a rehearsal room on Thursday evenings.",
)
