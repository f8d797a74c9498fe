"""Reading one `[sources.<tool>]` table, with errors that name `sources.<tool>.<key>`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigReader:
    """Reads one `[sources.<tool>]` table, naming `sources.<tool>.<key>` in every error."""

    def __init__(self, tool: str, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw, Mapping):
            raise ValueError(f"sources.{tool}: must be a table")
        self.tool = tool
        self._raw = dict(raw)
        self._used: set[str] = set()

    def where(self, key: str) -> str:
        return f"sources.{self.tool}.{key}"

    def _take(self, key: str) -> Any:
        self._used.add(key)
        return self._raw.get(key)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._take(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ValueError(f"{self.where(key)}: must be true or false, got {value!r}")
        return value

    def string(self, key: str, default: str) -> str:
        value = self._take(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ValueError(f"{self.where(key)}: must be a string, got {value!r}")
        return value.strip()

    def string_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._take(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(f"{self.where(key)}: must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def common(self) -> tuple[bool, str]:
        """`enabled` and `secret_env` (default `MQLBOT_<TOOL>_SECRET`)."""
        enabled = self.boolean("enabled", True)
        secret_env = self.string("secret_env", f"MQLBOT_{self.tool.upper()}_SECRET")
        if not _ENV_NAME.fullmatch(secret_env):
            raise ValueError(
                f"{self.where('secret_env')}: must be the NAME of an environment variable "
                f"(letters, digits, _), got {secret_env!r}; never put the secret itself here"
            )
        return enabled, secret_env

    def type_map(
        self,
        key: str,
        defaults: Mapping[str, str],
        allowed_keys: Collection[str] | None = None,
    ) -> dict[str, str]:
        """A tool-event → native-type table merged over the defaults; "" maps to 'ignore'."""
        value = self._take(key)
        merged = dict(defaults)
        if value is None:
            return merged
        if not isinstance(value, Mapping):
            raise ValueError(f"{self.where(key)}: must be a table of event name = native type")
        for name, native in value.items():
            if allowed_keys is not None and name not in allowed_keys:
                raise ValueError(
                    f"{self.where(key)}.{name}: mqlbot cannot read this {self.tool} event; "
                    f"readable: {', '.join(sorted(allowed_keys))}"
                )
            if not isinstance(native, str) or len(native.strip()) > 100:
                raise ValueError(
                    f'{self.where(key)}.{name}: must be a native event type (or "" to ignore)'
                )
            merged[str(name)] = native.strip()
        return merged

    def finish(self) -> None:
        """Refuse keys nobody read: a typo must not silently fall back to a default."""
        unknown = sorted(set(self._raw) - self._used)
        if unknown:
            raise ValueError(
                f"{self.where(unknown[0])}: unknown key; known keys: {', '.join(sorted(self._used))}"
            )
