"""The command menu (the `/` button), in each language we ship, set with setMyCommands."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand
from telegram.ext import ExtBot

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import N_, translator

MENU = (
    ("offer", N_("telegram.menu_offer")),
    ("need", N_("telegram.menu_need")),
    ("mine", N_("telegram.menu_mine")),
    ("matches", N_("telegram.menu_matches")),
    ("withdraw", N_("telegram.menu_withdraw")),
    ("language", N_("telegram.menu_language")),
    ("cancel", N_("telegram.menu_cancel")),
    ("help", N_("telegram.menu_help")),
)


def commands(language: str) -> list[BotCommand]:
    tr = translator(language)
    return [BotCommand(name, tr.t(key)) for name, key in MENU]


async def set_menu(bot: ExtBot[Any], default_language: str) -> None:
    """Users whose app language we do not ship see the default language's menu."""
    await bot.set_my_commands(commands(default_language))
    for language in SUPPORTED_LANGUAGES:
        await bot.set_my_commands(commands(language), language_code=language)
