"""The console adapter: a terminal conversation, built exactly like the platform adapters.

On a TTY it is a REPL; with piped stdin it reads line by line, so sessions can be scripted. A
terminal cannot show a file: attachments (a map, an export) are written to a folder, their path printed.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TextIO

from bot.deps import Deps
from bot.ports import Address, Incoming, Platform, Reply, Sender, SentRef
from handlers.application.conversation import Conversations

WORKSPACE = "local"
QUIT = {"/quit", "/exit"}
FILES = Path("peerlink-files")  # where attachments are written


def parse_identity(value: str) -> tuple[str, str | None]:
    """`Ana Lima@Câmara de Belo Horizonte` -> ("Ana Lima", "Câmara de Belo Horizonte")."""
    name, _, organisation = value.partition("@")
    return " ".join(name.split()) or "Guest", " ".join(organisation.split()) or None


def console_sender(value: str) -> Sender:
    name, organisation = parse_identity(value)
    # Stable per person and organisation, short enough for any id column, readable in the database.
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40]
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    # Whoever runs the terminal owns the installation, as a workspace admin owns a Slack workspace.
    return Sender(
        platform="console",
        workspace=WORKSPACE,
        user_id=f"{slug}-{digest}",
        display_name=name,
        organisation=organisation,
        is_platform_admin=True,
    )


def render(reply: Reply, file: Path | None = None) -> str:
    """Plain text; each button as the words that press it; a written file as its path."""
    lines = [reply.text]
    choices = [
        f"[{b.value}]" if b.label == b.value else f"[{b.value}] {b.label}"
        for b in reply.buttons
        if not b.value.isdigit()
    ]
    if choices:
        lines.append("  " + "   ".join(choices))
    if file is not None:
        lines.append(f"  📎 {file}")
    elif reply.attachment is not None:
        lines.append(f"  📎 {reply.attachment.filename} ({len(reply.attachment.content)} bytes)")
    return "\n".join(lines)


class Console:
    def __init__(self, deps: Deps, sender: Sender, files: Path = FILES) -> None:
        self.conversations = Conversations(deps)
        self.sender = sender
        self.files = files
        self.address = Address(platform="console", workspace=WORKSPACE, chat=sender.user_id)

    def say(self, text: str) -> list[str]:
        incoming = Incoming(sender=self.sender, chat=self.address, text=text, is_private=True)
        return [render(reply, self._save(reply)) for reply in self.conversations.handle(incoming)]

    def _save(self, reply: Reply) -> Path | None:
        if reply.attachment is None:
            return None
        self.files.mkdir(parents=True, exist_ok=True)
        path = self.files / (Path(reply.attachment.filename).name or "attachment")
        path.write_bytes(reply.attachment.content)
        return path


def run(console: Console, stdin: TextIO, stdout: TextIO, *, interactive: bool) -> None:
    for text in console.say("/start"):
        print(text, file=stdout)
    while True:
        if interactive:
            print("\n> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line or line.strip() in QUIT:
            return
        if not line.strip():
            continue
        for text in console.say(line.rstrip("\n")):
            print(text, file=stdout, flush=True)


class ConsoleNotifier:
    """Delivers scheduled messages (reminders, digests) to the terminal."""

    platform: Platform = "console"

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.sent = 0

    async def send(self, to: Address, message: Reply) -> SentRef:
        self.sent += 1
        print(f"\n[{to.chat}] {render(message)}", file=self.stream, flush=True)
        return SentRef(platform="console", chat=to.chat, message_id=str(self.sent))
