"""The console adapter: a terminal conversation, built exactly like the platform adapters.

The terminal is two chats at once: the person's private chat with the bot, and the community's
channel. Facilitators' `/peer …` commands are typed "in the channel", as they are in a Slack channel
or a Telegram group, so `/peer channel here` makes the terminal the channel where digests, rounds
and meeting posts are printed.

On a terminal, lines are read with prompt_toolkit (line editing, history, and messages from the
embedded worker printed above the prompt, never through it); piped, line by line, so sessions can be
scripted, and a script always runs to its end. A terminal cannot show a file: attachments are written
to a folder and their path is printed.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from bot.deps import Deps
from bot.i18n import N_, Translator, translator
from bot.ports import Address, Attachment, DeliveryError, Incoming, Platform, Reply, Sender, SentRef
from handlers.application.conversation import Conversations
from handlers.application.presence import in_conversation, speaker

log = logging.getLogger(__name__)

WORKSPACE = "local"
CHANNEL = "community"  # the chat id of the terminal as the community's channel
QUIT = {"/quit", "/exit"}
FILES = Path("peerlink-files")  # where attachments go unless `--files` says otherwise
PROMPT = "\n> "


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


class Files:
    """The folder attachments are written to; a name already there gets a number, never overwritten."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, attachment: Attachment) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = Path(attachment.filename).name or "attachment"
        stem, suffix = Path(name).stem, Path(name).suffix
        for number in itertools.count(1):
            path = self.folder / (name if number == 1 else f"{stem}-{number}{suffix}")
            try:
                with path.open("xb") as handle:
                    handle.write(attachment.content)
            except FileExistsError:
                continue
            return path
        raise AssertionError("unreachable")  # itertools.count never ends


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
    return "\n".join(lines)


def is_channel_command(text: str) -> bool:
    words = text.split(maxsplit=1)
    return bool(words) and words[0].split("@", 1)[0].lower() == "/peer"


class Console:
    def __init__(self, deps: Deps, sender: Sender, files: Files | None = None) -> None:
        self.deps = deps
        self.conversations = Conversations(deps)
        self.sender = sender
        self.files = files or Files(FILES)
        self.address = Address(platform="console", workspace=WORKSPACE, chat=sender.user_id)
        self.channel = Address(platform="console", workspace=WORKSPACE, chat=CHANNEL)

    def say(self, text: str) -> list[str]:
        in_channel = is_channel_command(text)
        chat = self.channel if in_channel else self.address
        incoming = Incoming(sender=self.sender, chat=chat, text=text, is_private=not in_channel)
        try:
            replies = self.conversations.handle(incoming)
        except Exception as problem:  # the adapter's error boundary, as bolt's and PTB's error handlers
            log.error("could not answer %r: %r", text[:80], problem, exc_info=log.isEnabledFor(logging.DEBUG))
            return [self._words().t("console.error")]
        return [self._show(reply) for reply in replies]

    def farewell(self) -> str:
        """Said on Ctrl-D, Ctrl-C or /quit: an offer or need under way waits in the database."""
        try:
            kept = in_conversation(self.deps, self.sender, self.address)
        except Exception as problem:
            log.error("could not look up the conversation: %r", problem)
            kept = False
        return self._words().t(N_("console.goodbye_draft_kept") if kept else N_("console.goodbye"))

    def _show(self, reply: Reply) -> str:
        if reply.attachment is None:
            return render(reply)
        try:
            path = self.files.save(reply.attachment)
        except OSError as problem:
            note = self._words().t(
                "console.file_not_written",
                file=reply.attachment.filename,
                folder=self.files.folder,
                reason=problem.strerror or problem,
            )
            return render(reply) + "\n" + note
        return render(reply, path)

    def _words(self) -> Translator:
        try:
            return speaker(self.deps, self.sender)
        except Exception:  # the database itself failing: still say it, in the community's default language
            return translator(self.deps.settings.default_language)


class Lines(Protocol):
    def read(self) -> str:
        """The next line; EOFError at the end of input (Ctrl-D), KeyboardInterrupt on Ctrl-C."""
        ...


class PipedLines:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def read(self) -> str:
        line = self.stream.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")


class TerminalLines:
    """prompt_toolkit's line editor: arrow keys move the cursor, up and down recall earlier lines."""

    def __init__(self) -> None:
        self.session: PromptSession[str] = PromptSession(history=InMemoryHistory())

    def read(self) -> str:
        return self.session.prompt(PROMPT)


@contextlib.contextmanager
def open_terminal(stdin: TextIO, stdout: TextIO) -> Iterator[tuple[Lines, TextIO]]:
    """The line source and the output. On a terminal, output goes through prompt_toolkit's
    `patch_stdout` while we run, so what the worker thread prints appears above the prompt."""
    if stdin.isatty() and stdout.isatty():
        with patch_stdout():
            yield TerminalLines(), sys.stdout  # by now, the proxy
        return
    # A script may hold any bytes: undecodable ones become U+FFFD instead of ending the session.
    for stream in (stdin, stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    yield PipedLines(stdin), stdout


def show(stdout: TextIO, texts: Iterable[str]) -> None:
    for text in texts:
        print(text, file=stdout, flush=True)


def chat(console: Console, lines: Lines, stdout: TextIO) -> None:
    """Until the input ends (Ctrl-D), Ctrl-C or /quit; the caller then says `console.farewell()`."""
    with contextlib.suppress(EOFError, KeyboardInterrupt):
        show(stdout, console.say("/start"))
        while (line := lines.read()).strip() not in QUIT:
            if line.strip():
                show(stdout, console.say(line))


class ConsoleNotifier:
    """Delivers scheduled messages (reminders, digests) to the terminal, files to the folder."""

    platform: Platform = "console"

    def __init__(self, stream: TextIO, files: Files) -> None:
        self.stream = stream
        self.files = files
        self.sent = 0

    async def send(self, to: Address, message: Reply) -> SentRef:
        path = None
        if message.attachment is not None:
            try:
                path = self.files.save(message.attachment)
            except OSError as problem:  # the outbox keeps the message and tries again later
                raise DeliveryError(f"cannot write to {self.files.folder}: {problem.strerror}") from problem
        self.sent += 1
        print(f"\n[{to.chat}] {render(message, path)}", file=self.stream, flush=True)
        return SentRef(platform="console", chat=to.chat, message_id=str(self.sent))
