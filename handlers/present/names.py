"""Display names for the keys marketing data carries: lead sources, campaigns and trigger rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

NameKind = Literal["sources", "campaigns", "triggers"]
NAME_KINDS: Final[tuple[NameKind, ...]] = ("sources", "campaigns", "triggers")
_EMPTY: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({})


def normalise_key(key: str) -> str:
    """How a source or trigger key is looked up: case and spacing ignored (``PAID_SEARCH``,
    ``paid search`` and ``paid_search`` are one source); campaigns are matched as written."""
    return "_".join(key.strip().lower().replace("-", " ").replace("_", " ").split())


@dataclass(frozen=True)
class DisplayNames:
    """Configured names, ``kind → key → language → name`` (``"*"`` for every language)."""

    sources: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _EMPTY)
    campaigns: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _EMPTY)
    triggers: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def parse(cls, tables: Mapping[str, Mapping[str, object]]) -> DisplayNames:
        """From the ``[names.*]`` tables (already validated): one name for every language, or
        a table of names by language."""
        parsed: dict[str, Mapping[str, Mapping[str, str]]] = {}
        for kind in NAME_KINDS:
            key_of = (lambda k: k) if kind == "campaigns" else normalise_key
            entries: dict[str, Mapping[str, str]] = {}
            for key, value in tables.get(kind, {}).items():
                by_language = (
                    {str(lang): str(name) for lang, name in value.items()}
                    if isinstance(value, Mapping)
                    else {"*": str(value)}
                )
                entries[key_of(key)] = MappingProxyType(by_language)
            parsed[kind] = MappingProxyType(entries)
        return cls(**parsed)

    def get(self, kind: NameKind, key: str, language: str) -> str | None:
        """The configured name of ``key`` in ``language``, or None when none is configured."""
        table: Mapping[str, Mapping[str, str]] = getattr(self, kind)
        names = table.get(key if kind == "campaigns" else normalise_key(key))
        if names is None:
            return None
        return names.get(language) or names.get("*")


NO_NAMES: Final = DisplayNames()
