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

import asyncio
import contextlib
import hashlib
import itertools
import logging
import queue
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app, run_in_terminal
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from bot.deps import Deps
from bot.i18n import N_, Translator, translator
from bot.log_context import about
from bot.organisations import key
from bot.ports import Address, Attachment, DeliveryError, Incoming, Platform, Reply, Sender, SentRef
from handlers.application.conversation import Conversations
from handlers.application.presence import in_conversation, speaker

log = logging.getLogger(__name__)

WORKSPACE = "local"
CHANNEL = "community"  # the chat id of the terminal as the community's channel
QUIT = {"/quit", "/exit"}
FILES = Path("peerlink-files")  # where attachments go unless `--files` says otherwise
PROMPT = "\n> "
NOTICE_POLL_SECONDS = 0.2  # how soon a notice shows above the prompt


def parse_identity(value: str) -> tuple[str, str | None]:
    """`Ana Lima@Câmara de Belo Horizonte` -> ("Ana Lima", "Câmara de Belo Horizonte")."""
    name, _, organisation = value.partition("@")
    return " ".join(name.split()) or "Guest", " ".join(organisation.split()) or None


def console_sender(value: str) -> Sender:
    name, organisation = parse_identity(value)
    # Stable per person and organisation (however its name is spelt: `bot.organisations.key`), short
    # enough for any id column, readable in the database.
    person = f"{name}@{key(organisation)}" if organisation else name
    slug = re.sub(r"[^a-z0-9]+", "-", person.lower()).strip("-")[:40]
    digest = hashlib.sha256(person.encode("utf-8")).hexdigest()[:8]
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
        with about(platform="console"):
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


class Screen:
    """What is printed: replies (by the main thread) and notices (by the worker's thread), one line
    at a time, never two writers at once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def show(self, text: str) -> None:
        with self.lock:
            print(text, file=self.stream, flush=True)

    def notice(self, text: str) -> None:
        self.show(text)


class PromptScreen(Screen):
    """On a terminal the prompt owns the screen while it is shown. Notices wait in a queue: the
    prompt's own loop prints them above the line being typed (`run_in_terminal` hides the prompt,
    prints, draws it again), the main thread prints them between prompts. Both are the main thread,
    so nothing ever writes while the prompt is drawn."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.pending: queue.SimpleQueue[str] = queue.SimpleQueue()

    def notice(self, text: str) -> None:
        self.pending.put(text)

    def show(self, text: str) -> None:
        self.show_notices()
        super().show(text)

    def show_notices(self) -> None:
        while True:
            try:
                text = self.pending.get_nowait()
            except queue.Empty:
                return
            super().show(text)


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

    def __init__(self, screen: PromptScreen) -> None:
        self.screen = screen
        self.session: PromptSession[str] = PromptSession(history=InMemoryHistory())

    def read(self) -> str:
        self.screen.show_notices()
        return self.session.prompt(PROMPT, pre_run=self._watch_notices)

    def _watch_notices(self) -> None:
        get_app().create_background_task(self._notices_above_prompt())

    async def _notices_above_prompt(self) -> None:
        while True:  # cancelled when the prompt ends; what is still queued then is shown by `read`
            await asyncio.sleep(NOTICE_POLL_SECONDS)
            if not self.screen.pending.empty():
                await run_in_terminal(self.screen.show_notices)


@contextlib.contextmanager
def open_terminal(stdin: TextIO, stdout: TextIO) -> Iterator[tuple[Lines, Screen]]:
    """The line source and the screen. On a terminal, anything else written to stdout or stderr
    while we run (log lines) goes through prompt_toolkit's `patch_stdout`, above the prompt too."""
    if stdin.isatty() and stdout.isatty():
        screen = PromptScreen(stdout)
        with patch_stdout():
            yield TerminalLines(screen), screen
        return
    # A script may hold any bytes: undecodable ones become U+FFFD instead of ending the session.
    for stream in (stdin, stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    yield PipedLines(stdin), Screen(stdout)


def chat(console: Console, lines: Lines, screen: Screen) -> None:
    """Until the input ends (Ctrl-D), Ctrl-C or /quit; the caller then shows `console.farewell()`."""
    with contextlib.suppress(EOFError, KeyboardInterrupt):
        for text in console.say("/start"):
            screen.show(text)
        while (line := lines.read()).strip() not in QUIT:
            for text in console.say(line) if line.strip() else ():
                screen.show(text)


class ConsoleNotifier:
    """Delivers scheduled messages (reminders, digests) to the terminal, files to the folder."""

    platform: Platform = "console"

    def __init__(self, screen: Screen, files: Files) -> None:
        self.screen = screen
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
        self.screen.notice(f"\n[{to.chat}] {render(message, path)}")
        return SentRef(platform="console", chat=to.chat, message_id=str(self.sent))
