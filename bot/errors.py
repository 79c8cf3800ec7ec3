"""The one error a person's request can end in: something they asked that cannot be done.

Services raise `UserError(key, **values)` with a catalog key; the dispatcher answers it once, in the
reader's language, for every command and conversation step. Anything else is a bug, not a reply.
"""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be done; `key` is the catalog message saying why, `values` fill it."""

    def __init__(self, key: str, /, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
