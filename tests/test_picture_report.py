"""The partnership report: one self-contained HTML page with the expected sections, every text people
wrote escaped; it opens in headless Chromium without console errors and its screenshot is not blank.
`/peer report` sends it as a file and `peerlink report --out DIR` writes it.

Chromium is Debian's `chromium` package (`.ci/run` installs it when missing). Without it the
Chromium tests skip, unless PEERLINK_REQUIRE_CHROMIUM=1 (as in CI), where they fail.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.demo import load_demo
from bot.deps import Deps
from bot.i18n import translator
from bot.picture.report import SECTIONS, build_report
from bot.ports import Address, Incoming, Reply, Sender
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations
from storage.db import transaction
from storage.models import Organisation, Post, PostKind

REQUIRE_CHROMIUM = os.environ.get("PEERLINK_REQUIRE_CHROMIUM") == "1"
HOSTILE = '<script>alert("x")</script>'
HOSTILE_NAME = "<img src=x onerror=alert(1)> & Co"


def _demo(deps: Deps, *, hostile: bool = False) -> None:
    with transaction(deps.sessions) as session:
        load_demo(session, deps.encoder)
        if hostile:  # someone typed markup: it must stay text
            organisation = Organisation(community_id=1, name=HOSTILE_NAME, city="Bilbao")
            session.add(organisation)
            session.flush()
            session.add(
                Post(
                    community_id=1,
                    organisation_id=organisation.id or 0,
                    ref="hostile",
                    kind=PostKind.need,
                    title=HOSTILE,
                    topics=[],  # matches nothing: listed among the needs without a match
                )
            )


def _report(deps: Deps, language: str = "en") -> str:
    with deps.sessions() as session:
        return build_report(
            session,
            deps.matcher,
            1,
            community="RRR <partners>",
            tr=translator(language),
            zone=ZoneInfo("Europe/Madrid"),
            now=deps.clock.now(),
        )


def test_the_report_has_every_section_and_needs_no_network(deps: Deps) -> None:
    _demo(deps, hostile=True)
    page = _report(deps)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    for key, title in SECTIONS:
        assert f'<section id="{key}">' in page
        assert translator("en").t(title) in page
    assert page.count('<img src="data:image/png;base64,') == 1  # the map; no round yet: no funnel chart
    assert translator("en").t("picture.funnel_none") in page
    assert "default-src 'none'" in page  # even a stray reference could not reach the network
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "<script" not in page
    assert "<link" not in page
    assert "@media print" in page


def test_text_people_wrote_is_escaped(deps: Deps) -> None:
    _demo(deps, hostile=True)
    page = _report(deps)
    assert HOSTILE not in page
    assert HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page  # the unmatched need, as text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in page
    assert "RRR &lt;partners&gt;" in page


def test_the_report_is_in_the_requested_language(deps: Deps) -> None:
    _demo(deps)
    page = _report(deps, "pl")
    assert '<html lang="pl">' in page
    assert translator("pl").t("picture.section_matrix") in page
    assert "Zamówienia publiczne" in page  # topic labels too


def _ask(deps: Deps, text: str) -> list[Reply]:
    sender = Sender(platform="console", workspace="local", user_id="ana", display_name="Ana", is_platform_admin=True)
    chat = Address(platform="console", workspace="local", chat="ana")
    return Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=text))


def test_peer_report_sends_the_page_as_a_file(deps: Deps) -> None:
    _demo(deps)
    [reply] = _ask(deps, "/peer report")
    assert reply.text == translator("en").t("picture.report_ready", community="Peerlink")
    assert reply.attachment is not None
    assert reply.attachment.mime_type == "text/html"
    assert reply.attachment.filename == "peerlink-report-20260302-0900.html"
    page = reply.attachment.content.decode()
    assert all(f'<section id="{key}">' in page for key, _ in SECTIONS)


def test_peerlink_report_writes_the_page(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"], obj={}).exit_code == 0
    result = runner.invoke(cli, ["report", "--out", str(tmp_path / "out"), "--language", "fr"], obj={})
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "out").iterdir()
    assert result.stdout == translator("fr").t("picture.cli_written", path=written) + "\n"
    assert '<html lang="fr">' in written.read_text(encoding="utf-8")


# --- headless Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if REQUIRE_CHROMIUM:
            pytest.fail("PEERLINK_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)")
        pytest.skip("Chromium tests skipped: no chromium on PATH (apt-get install -y chromium)")
    return found


def _browse(chromium: str, page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console (errors, CSP violations): Chromium logs them as CONSOLE."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_errors_are_caught(chromium: str, tmp_path: Path) -> None:
    """The check below can fail: a page that breaks its own policy shows up."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '</head><body><img src="https://example.invalid/a.png"></body></html>',
        encoding="utf-8",
    )
    assert _console_messages(_browse(chromium, page, tmp_path, "--dump-dom").stderr)


def test_the_report_opens_in_chromium_without_console_errors(deps: Deps, chromium: str, tmp_path: Path) -> None:
    _demo(deps, hostile=True)
    with transaction(deps.sessions) as session:
        deps.matcher.record_round(session, deps.matcher.run_round(session, 1))  # the funnel has a round
    page = tmp_path / "report.html"
    page.write_text(_report(deps), encoding="utf-8")
    shown = _browse(chromium, page, tmp_path, "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert _console_messages(shown.stderr) == []
    dom = shown.stdout
    for key, _ in SECTIONS:
        assert re.search(rf'<section id="{key}">\s*<h2>', dom)
    assert dom.count('<img src="data:image/png;base64,') == 2  # the map and the funnel
    assert "<script>alert" not in dom  # the hostile title stayed text


def test_the_reports_screenshot_is_not_blank(deps: Deps, chromium: str, tmp_path: Path) -> None:
    _demo(deps)
    with transaction(deps.sessions) as session:
        deps.matcher.record_round(session, deps.matcher.run_round(session, 1))  # the map's lines turn blue
    page = tmp_path / "report.html"
    page.write_text(_report(deps), encoding="utf-8")
    shot = tmp_path / "shot.png"
    done = _browse(chromium, page, tmp_path, f"--screenshot={shot}", "--window-size=1200,1800")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console_messages(done.stderr) == []
    with Image.open(io.BytesIO(shot.read_bytes())) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (1200, 1800)
        colours = pixels.getcolors(maxcolors=1 << 20) or []
    inked = sum(count for count, rgb in colours if max(rgb) < 200)
    blue = sum(count for count, (r, g, b) in colours if b > 180 and r < 120 and 140 < g < 210)  # suggested links
    assert inked > 0.02 * 1200 * 1800  # text, lines and markers, not an empty page
    assert len(colours) > 50
    assert blue > 2000  # the map image was decoded and drawn
