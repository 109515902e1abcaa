"""The exceptions tokenscope raises.

Every error of the library is a :class:`TokenscopeError`; its ``exit_code``
is the status the command line exits with for the same problem (2: bad
input or usage, 3: a system I/O error, 4: a remote service failed).
"""

from __future__ import annotations

from typing import Optional


class TokenscopeError(Exception):
    """Base class of every tokenscope error.

    ``exit_code`` is the command line's exit status for the same problem.
    """

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(TokenscopeError, ValueError):
    """A setting that cannot be used: an unknown model, encoding, strategy
    or profile, a budget that is not a positive number of tokens, a split
    naming a section the item set does not declare, ...

    The message says what was given and what was expected.
    """


class InputError(TokenscopeError, ValueError):
    """An input that cannot be loaded: a file, or data given as dicts,
    records or text.

    ``path`` is the file (or ``<dict>``, ``<records>``, ``<request>``, the
    name given to :func:`tokenscope.loads`), ``line`` and ``column`` the
    1-based position when the problem has one (the column counts
    characters), and the message reads ``path:line:column: what was found
    and what was expected``, as on the command line. ``snippet`` is the
    offending line with a caret under the column, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
        snippet: Optional[str] = None,
        exit_code: int = 2,
    ) -> None:
        super().__init__(message, exit_code=exit_code)
        self.path = path
        self.line = line
        self.column = column
        self.snippet = snippet
