"""files_upload_v2 as slack_sdk performs it: get URL, upload bytes, complete."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Workspace


async def test_upload_v2_end_to_end(client: AsyncWebClient, state: Workspace) -> None:
    parent = await client.chat_postMessage(channel="C_MKT", text="週次ダイジェスト")
    content = b"source,mqls\nwebinar,12\n"

    answer = await client.files_upload_v2(
        channel="C_MKT",
        content=content,
        filename="digest.csv",
        title="Weekly digest",
        initial_comment="今週の結果です",
        thread_ts=parent["ts"],
    )

    [upload] = state.files.values()
    assert answer["file"]["id"] == upload.id
    assert (upload.filename, upload.title, upload.content) == (
        "digest.csv",
        "Weekly digest",
        content,
    )
    assert (upload.channels, upload.thread_ts) == (["C_MKT"], parent["ts"])
    assert upload.initial_comment == "今週の結果です"
    [reply] = state.replies("C_MKT", parent["ts"])
    assert (reply.text, reply.files) == ("今週の結果です", [upload.id])
    assert [c.method for c in state.calls()][-3:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


async def test_complete_without_upload_is_file_not_found(client: AsyncWebClient) -> None:
    started = await client.files_getUploadURLExternal(filename="a.txt", length=3)

    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(
            files=[{"id": started["file_id"], "title": "a"}], channel_id="C_MKT"
        )

    assert caught.value.response["error"] == "file_not_found"


async def test_upload_to_unknown_channel(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.files_upload_v2(channel="C_NOPE", content=b"x", filename="x.txt")

    assert caught.value.response["error"] == "channel_not_found"
