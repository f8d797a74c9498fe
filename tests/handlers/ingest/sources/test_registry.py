"""The registry: one adapter per webhook path, each honouring the adapter protocol."""

from __future__ import annotations

import pytest

from handlers.ingest.sources.base import SourceConfig
from handlers.ingest.sources.registry import ADAPTERS


def test_every_tool_of_the_issue_is_registered_under_its_path_name() -> None:
    assert sorted(ADAPTERS) == [
        "cloudevents", "hubspot", "marketo", "mautic", "salesforce", "segment"
    ]  # fmt: skip
    assert all(adapter.name == name for name, adapter in ADAPTERS.items())


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_defaults_are_enabled_with_a_per_tool_secret_variable(name: str) -> None:
    config = ADAPTERS[name].parse_config({})
    assert isinstance(config, SourceConfig)
    assert (config.enabled, config.secret_env) == (True, f"MQLBOT_{name.upper()}_SECRET")
    disabled = ADAPTERS[name].parse_config({"enabled": False, "secret_env": "HOOK_SECRET"})
    assert (disabled.enabled, disabled.secret_env) == (False, "HOOK_SECRET")


def test_the_registry_cannot_be_modified_at_run_time() -> None:
    with pytest.raises(TypeError):
        ADAPTERS["x"] = ADAPTERS["mautic"]  # type: ignore[index]
