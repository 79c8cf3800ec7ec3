"""Reading a number a person typed ("12", "#12"): the one parser every command uses.

Only ASCII digits count: `str.isdigit()` also accepts "²" or "٣", which `int()` then refuses or
reads as something nobody meant. Numbers are bounded so an id never overflows a database column.
"""

from __future__ import annotations

import re

from bot.errors import UserError

NUMBER_MAX = 2_147_483_647  # PostgreSQL's integer: no row of ours has a larger id
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_number(text: str, *, minimum: int = 1, maximum: int = NUMBER_MAX) -> int | None:
    """`"12"` or `"#12"` -> 12; None for anything else, or a number outside [minimum, maximum]."""
    token = text.strip().removeprefix("#")
    if not _DIGITS.fullmatch(token):
        return None
    value = int(token)
    return value if minimum <= value <= maximum else None


def number(text: str, *, usage: str, minimum: int = 1, maximum: int = NUMBER_MAX) -> int:
    """The number in `text`, or UserError(`usage`): the command's own kind explanation of what to type."""
    found = parse_number(text, minimum=minimum, maximum=maximum)
    if found is None:
        raise UserError(usage)
    return found
