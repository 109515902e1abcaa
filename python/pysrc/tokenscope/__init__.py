"""tokenscope: exact LLM token counts, and prompt pieces packed into a budget.

The engine of the ``tokenscope`` command line, in process::

    import tokenscope

    tokenscope.count("Hello, world!")                   # 4 (gpt-4o, exact)
    tokenscope.count(["a", "b c"], model="gpt-4.1")      # [1, 2], on every core
    tokenscope.count_chat({"model": "gpt-4o", "messages": [...]})  # billed prompt tokens
    report = tokenscope.pack("samples/docs/docs.toml", budget=8000, profile="tight")
    report["totals"]["used"], report.context              # the report, the packed context
    report.json()                                         # == `tokenscope pack ... --format json`
    tokenscope.trim_request(request, budget=2000)         # == `pack --format request`

Settings behave exactly as the command line's flags: the same profiles from
``tokenscope.toml``, the same layering and fallbacks (both go through the
library's session layer). Errors are :class:`TokenscopeError`;
:class:`InputError` carries ``path``, ``line`` and ``column``.
"""

from __future__ import annotations

import json as _json
import os
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._errors import InputError, TokenscopeError, UsageError
from ._native import ItemSet, Plan, count, count_chat

__version__: str = _native.__version__

__all__ = [
    "InputError",
    "ItemSet",
    "Plan",
    "Report",
    "TokenscopeError",
    "UsageError",
    "count",
    "count_chat",
    "load",
    "loads",
    "pack",
    "pack_json",
    "trim_request",
]

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[PathLike, Sequence[PathLike], Mapping[str, Any], Sequence[Mapping[str, Any]], ItemSet]


class Report(dict):  # type: ignore[type-arg]
    """A plan as the ``tokenscope.report/1`` report: a ``dict`` equal to
    ``json.loads`` of ``tokenscope pack ... --format json``, plus the plan's
    other forms.

    ``report.json()`` is that JSON text exactly; ``report.context`` is the
    packed context (``--format context``); ``report.request()`` the trimmed
    request of a request input (``--format request``);
    ``report.render("md")`` any report format. A pickled report (for
    example one sent between Ray or Spark workers) is a plain ``dict``.
    """

    __slots__ = ("_plan",)

    def __init__(self, plan: Plan) -> None:
        super().__init__(_json.loads(plan.render("json")))
        self._plan = plan

    def json(self) -> str:
        """The ``tokenscope.report/1`` JSON text, as ``pack --format json``
        writes it (pretty, with a final newline)."""
        return self._plan.render("json")

    @property
    def context(self) -> str:
        """The packed context, byte for byte as ``pack --format context``
        writes it."""
        return self._plan.render("context")

    @property
    def is_request(self) -> bool:
        """Whether the input was an API request (``request()`` works)."""
        return self._plan.is_request

    def request(self) -> Dict[str, Any]:
        """The trimmed request as a dict (key order kept), as ``pack
        --format request`` writes it. Raises :class:`UsageError` when the
        input was not a request."""
        request: Dict[str, Any] = _json.loads(self._plan.render("request"))
        return request

    def render(self, format: str) -> str:
        """The plan in a report format: ``json``, ``md``, ``csv``,
        ``context``, ``text`` or ``request``."""
        return self._plan.render(format)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (dict, (dict(self),))


def _load_options(
    input_format: Optional[str],
    heading_level: Optional[int],
    include: Union[str, Sequence[str], None],
    exclude: Union[str, Sequence[str], None],
    hidden: bool,
    jsonl_fields: Optional[Mapping[str, str]],
    image_size: Optional[Tuple[int, int]],
) -> Dict[str, Any]:
    return {
        "input_format": input_format,
        "heading_level": heading_level,
        "include": include,
        "exclude": exclude,
        "hidden": hidden,
        "jsonl_fields": jsonl_fields,
        "image_size": image_size,
    }


def load(
    source: Source,
    *,
    input_format: Optional[str] = None,
    heading_level: Optional[int] = None,
    include: Union[str, Sequence[str], None] = None,
    exclude: Union[str, Sequence[str], None] = None,
    hidden: bool = False,
    jsonl_fields: Optional[Mapping[str, str]] = None,
    image_size: Optional[Tuple[int, int]] = None,
) -> ItemSet:
    """Load an item set.

    ``source`` is one of:

    - a path (``str`` or ``os.PathLike``) or a list of paths: item sets
      (TOML, JSON), prompt files (Markdown, text), folders, ``llms.txt``,
      JSONL retrieval results and API requests, loaded and merged exactly
      as ``tokenscope pack PATH...`` loads them (``[rules]`` of the
      ``tokenscope.toml`` found give folder files their priority);
    - a dict: a native item set (``{"budget": ..., "sections": [...],
      "items": [...]}``, the JSON item-set shape) or an API request
      (chat completions, Responses, Anthropic, Gemini);
    - a list of dicts: retrieval records, as JSONL lines (``id``, ``text``,
      ``score``; other fields kept in ``meta``).

    The options are the command line's: ``input_format`` (``--input``:
    toml, json, markdown, llms-txt, llms-full, jsonl, directory, chat,
    anthropic, responses, gemini), ``heading_level``, ``include`` and
    ``exclude`` globs and ``hidden`` for folders, ``jsonl_fields``
    (``{"text": "content", "score": "similarity"}``), ``image_size``
    (``(width, height)`` of linked images).

    Bad input raises :class:`InputError` naming the file (``<dict>`` or
    ``<records>`` for data), line and column.
    """
    options = _load_options(
        input_format, heading_level, include, exclude, hidden, jsonl_fields, image_size
    )
    return _native._load(source, options)


def loads(
    text: str,
    *,
    name: str = "<text>",
    input_format: Optional[str] = None,
    heading_level: Optional[int] = None,
    jsonl_fields: Optional[Mapping[str, str]] = None,
    image_size: Optional[Tuple[int, int]] = None,
) -> ItemSet:
    """Load an item set from text in any input format, detected as for a
    file (a request, a JSON item set, JSONL, a TOML item set, else
    Markdown) unless ``input_format`` is given. ``name`` names it in error
    messages; item ``path`` keys resolve from the working folder."""
    if not isinstance(text, str):
        raise TypeError(f"loads: got {type(text).__name__}; expected str")
    options = _load_options(input_format, heading_level, None, None, False, jsonl_fields, image_size)
    return _native._loads(text, name, options)


def pack(
    source: Source,
    *,
    model: Optional[str] = None,
    encoding: Optional[str] = None,
    budget: Optional[int] = None,
    reserve_output: Optional[int] = None,
    profile: Optional[str] = None,
    strategy: Optional[str] = None,
    overflow: Optional[str] = None,
    split: Union[str, Mapping[str, float], None] = None,
    tokenizer_file: Optional[PathLike] = None,
    models_file: Optional[PathLike] = None,
    optimal_deadline: Union[float, str, None] = None,
    summarizer: Optional[str] = None,
    input_format: Optional[str] = None,
    heading_level: Optional[int] = None,
    include: Union[str, Sequence[str], None] = None,
    exclude: Union[str, Sequence[str], None] = None,
    hidden: bool = False,
    jsonl_fields: Optional[Mapping[str, str]] = None,
    image_size: Optional[Tuple[int, int]] = None,
) -> Report:
    """Run the engine once, as ``tokenscope pack``, and return the report.

    ``source`` is what :func:`load` takes (paths, a dict, records) or a
    loaded :class:`ItemSet`. Each option is the command-line flag of the
    same name and layers the same way: the item set, then the ``profile``
    (from the ``tokenscope.toml`` found upward from the first input's
    folder, else from the working folder; from the working folder for
    data), then the options given here; with no budget, model or encoding
    anywhere, gpt-4o's context window is the budget (and a warning says
    so).

    - ``model``, ``encoding``, ``tokenizer_file``: what counts;
      ``models_file`` a models.toml instead of the user's;
    - ``budget``, ``reserve_output``: tokens;
    - ``strategy``: greedy, strict, density, optimal, balanced;
    - ``overflow``: drop, truncate, degrade, summarize, priority-cut
      (``summarizer`` the command overflow ``summarize`` runs);
    - ``split``: section shares, ``{"pages": 40, "header": 10}`` or
      ``"pages=40,header=10"``;
    - ``optimal_deadline``: the ``optimal`` search's limit per run, in
      seconds (``float("inf")``: none) or as ``"250ms"``; default 2 s;
    - the loading options of :func:`load` (for paths and data only).

    Returns a :class:`Report`: the ``tokenscope.report/1`` dict, whose
    ``json()`` is the command line's JSON text. The engine runs with the
    GIL released.
    """
    return Report(
        _native._pack(
            source,
            {
                "model": model,
                "encoding": encoding,
                "budget": budget,
                "reserve_output": reserve_output,
                "profile": profile,
                "strategy": strategy,
                "overflow": overflow,
                "split": split,
                "tokenizer_file": tokenizer_file,
                "models_file": models_file,
                "optimal_deadline": optimal_deadline,
                "summarizer": summarizer,
                "input_format": input_format,
                "heading_level": heading_level,
                "include": include,
                "exclude": exclude,
                "hidden": hidden,
                "jsonl_fields": jsonl_fields,
                "image_size": image_size,
            },
        )
    )


def pack_json(source: Source, **options: Any) -> str:
    """:func:`pack`, returning the ``tokenscope.report/1`` JSON text exactly
    as ``tokenscope pack ... --format json`` writes it. Takes the options
    of :func:`pack`."""
    unknown = set(options) - _PACK_OPTIONS
    if unknown:
        raise TypeError(f"pack_json() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    full = {key: options.get(key) for key in _PACK_OPTIONS}
    full["hidden"] = bool(options.get("hidden", False))
    return _native._pack(source, full).render("json")


_PACK_OPTIONS = frozenset(
    [
        "model",
        "encoding",
        "budget",
        "reserve_output",
        "profile",
        "strategy",
        "overflow",
        "split",
        "tokenizer_file",
        "models_file",
        "optimal_deadline",
        "summarizer",
        "input_format",
        "heading_level",
        "include",
        "exclude",
        "hidden",
        "jsonl_fields",
        "image_size",
    ]
)


def trim_request(
    request: Union[Mapping[str, Any], str, "os.PathLike[str]"],
    budget: int,
    model: Optional[str] = None,
    *,
    reserve_output: Optional[int] = None,
    encoding: Optional[str] = None,
    profile: Optional[str] = None,
    image_size: Optional[Tuple[int, int]] = None,
) -> Any:
    """The request trimmed to ``budget`` prompt tokens, as ``tokenscope pack
    REQUEST --budget N --format request`` writes it: the oldest history cut
    first (tool calls kept with their results; Anthropic and Gemini at user
    turns), every other field and the key order unchanged.

    ``request`` is a dict (returns a dict), the request's JSON text
    (returns the JSON text) or an ``os.PathLike`` to a request file
    (returns the JSON text). Chat completions, Responses, Anthropic
    Messages and Gemini requests are accepted; ``model`` is needed for
    Gemini (its body names none). Raises :class:`InputError` for a request
    that cannot be read and :class:`UsageError` for one that is not a
    request.
    """
    if isinstance(request, Mapping):
        source: Any = loads(_native.request_text(dict(request)), name="<request>", image_size=image_size)
        as_dict = True
    elif isinstance(request, str):
        source = loads(request, name="<request>", image_size=image_size)
        as_dict = False
    elif isinstance(request, os.PathLike):
        source = load(request, image_size=image_size)
        as_dict = False
    else:
        raise TypeError(
            f"trim_request: got {type(request).__name__}; expected a dict, the request's JSON text or a path"
        )
    plan = _native._pack(
        source,
        {
            "budget": budget,
            "model": model,
            "reserve_output": reserve_output,
            "encoding": encoding,
            "profile": profile,
        },
    )
    text = plan.render("request")
    return _json.loads(text) if as_dict else text

