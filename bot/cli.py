"""The `mqlbot` command line: serve, worker, sender, socket, demo, db upgrade, jobs run, import events, manifest, config."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bot.settings import ConfigError, Settings, describe_database, load_settings

app = typer.Typer(
    name="mqlbot",
    help="Carries marketing's MQLs to inside sales in Slack and makes sure none is forgotten.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: option values named by their metavar (--port PORT), flags without a type tag.
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True, rich_markup_mode=None)
jobs_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True, rich_markup_mode=None)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True, rich_markup_mode=None)
report_app = typer.Typer(
    help="Reports for analysts (read-only).", no_args_is_help=True, rich_markup_mode=None
)
import_app = typer.Typer(help="Backfills.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(report_app, name="report")
app.add_typer(jobs_app, name="jobs")
app.add_typer(config_app, name="config")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="MQLBOT_CONFIG",
        help="TOML configuration file (default ./mqlbot.toml).",
        dir_okay=False,
        metavar="FILE",
    ),
]
JOB_NAMES = ("nag", "digest", "recycle", "decay", "prune")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line on stderr and exit non-zero."""
    typer.echo(f"mqlbot: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit(config: Path | None) -> Settings:
    """Load and validate the settings, or exit with the one-line reason."""
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))


def _logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic lists each of its plugins at every start; which migrations ran is still logged.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _migrate(settings: Settings) -> None:
    from store.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except Exception as exc:  # report any database problem in one line, not a traceback
        fail(f"database {settings.database_url.split('@')[-1]}: {exc.__class__.__name__}: {exc}")


def _require_slack(settings: Settings) -> None:
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        fail(
            "no Slack credentials: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, "
            "or run `mqlbot demo` to try the bot against a local Slack stand-in"
        )


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on.", metavar="HOST")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", metavar="PORT")] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run the scheduler and sender here.")
    ] = False,
) -> None:
    """HTTP server: Slack endpoint, webhooks, health; plus the scheduler and sender unless --no-worker."""
    settings = settings_or_exit(config)
    _require_slack(settings)
    _logging()
    _migrate(settings)

    import uvicorn

    from bot.runtime import Runtime
    from bot.web import create_web_app
    from bot.worker import background

    runtime = Runtime.build(settings)
    web = create_web_app(
        runtime, background=None if no_worker else (lambda _app: background(runtime))
    )
    uvicorn.run(web, host=host, port=port, log_level="info")


@app.command()
def worker(config: ConfigOption = None) -> None:
    """The scheduler and the Slack sender alone (for deployments that split web and worker)."""
    settings = settings_or_exit(config)
    _require_slack(settings)
    _logging()
    _migrate(settings)

    from bot.runtime import Runtime
    from bot.worker import run_until_signalled

    asyncio.run(run_until_signalled(Runtime.build(settings)))


@app.command()
def sender(
    config: ConfigOption = None,
    lease: Annotated[
        float | None, typer.Option(help="Seconds a row stays leased to this sender.", min=0.001)
    ] = None,
    http_timeout: Annotated[
        float | None, typer.Option(help="Seconds one Slack or CRM call may take.", min=0.001)
    ] = None,
) -> None:
    """The Slack sender alone, until SIGINT or SIGTERM: drains the outbox, no scheduler."""
    settings = settings_or_exit(config)
    if settings.slack_bot_token is None:
        fail("no Slack credentials: set SLACK_BOT_TOKEN")
    _logging()

    from bot.sender import SenderOptions
    from bot.worker import run_sender_until_signalled

    overrides: dict[str, Any] = {}
    if lease is not None:
        overrides["lease"] = timedelta(seconds=lease)
    if http_timeout is not None:
        overrides["http_timeout"] = http_timeout
    try:
        options = SenderOptions.from_settings(settings, **overrides)
    except ValueError as exc:
        fail(str(exc))
    asyncio.run(run_sender_until_signalled(settings, options))


@app.command()
def socket(
    config: ConfigOption = None,
    host: Annotated[
        str, typer.Option(help="Interface for the webhooks.", metavar="HOST")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the webhooks.", metavar="PORT")] = 8000,
) -> None:
    """The bot over Slack Socket Mode (no public URL); webhooks still served over HTTP."""
    settings = settings_or_exit(config)
    _require_slack(settings)
    if settings.slack_app_token is None:
        fail("Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write)")
    _logging()
    _migrate(settings)

    from bot.socket import run_socket_mode

    run_socket_mode(settings, host=host, port=port)


@app.command()
def demo(
    config: ConfigOption = None,
    script: Annotated[
        bool,
        typer.Option(
            "--script",
            "--no-browser",
            help="Play the scripted story in the terminal instead of serving the page.",
        ),
    ] = False,
    host: Annotated[
        str, typer.Option(help="Interface the page listens on.", metavar="HOST")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port of the page (0: any free port).", metavar="PORT")
    ] = 8808,
    keep: Annotated[
        Path | None,
        typer.Option(
            help="With --script: keep the demo database in this directory.", metavar="DIR"
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            help="Language of the bot, en or ja (default: [locale] language).", metavar="LANG"
        ),
    ] = None,
) -> None:
    """The whole bot against a local Slack stand-in with sample leads, as a Slack-like web page.

    Reads the configuration like serve (file, MQLBOT_* variables) over the demo's own settings,
    but always talks to the stand-in and keeps its own database.
    """
    if language is not None and language not in ("en", "ja"):
        fail(f"--language {language!r}: use en or ja")
    from bot.demo.run import demo_language

    try:
        language = demo_language(config, language)
    except ConfigError as exc:
        fail(str(exc))
    if script:
        from bot.demo.run import run_demo

        # Bold on a terminal that can show it (https://no-color.org asks for none).
        ansi = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.exit(run_demo(config=config, keep=keep, language=language, ansi=ansi))
    if keep is not None:
        fail("--keep works with --script only (the page starts from a fresh database)")
    from bot.demo.page import ControlError
    from bot.demo.web import run_page

    try:
        sys.exit(run_page(language=language, config=config, host=host, port=port))
    except ControlError as exc:
        fail(str(exc))


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply database migrations (also done at start of serve and worker)."""
    from bot.settings import database_url

    try:
        url = database_url(config)
    except ConfigError as exc:
        fail(str(exc))
    from store.migrate import current_revision, upgrade

    try:
        upgrade(url)
        revision = current_revision(url)
    except Exception as exc:  # one line, not a traceback
        fail(f"database: {exc.__class__.__name__}: {exc}")
    typer.echo(f"database at revision {revision}")


@jobs_app.command("run")
def jobs_run(
    # Hidden from the argument list (which would tag it <str>); the docstring names the jobs.
    name: Annotated[str, typer.Argument(metavar="NAME", hidden=True)],
    config: ConfigOption = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Run as if at this ISO-8601 instant (with offset).", metavar="WHEN"
        ),
    ] = None,
) -> None:
    """Run one scheduled job once, now or as if at --at.

    NAME is one of: nag, digest, recycle, decay, prune.
    """
    if name not in JOB_NAMES:
        fail(f"unknown job {name!r}; jobs: {', '.join(JOB_NAMES)}")
    when: datetime | None = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            fail(f"--at {at!r} is not an ISO-8601 date-time")
        if when.tzinfo is None:
            fail(f"--at {at!r} has no time zone offset (e.g. 2026-11-24T09:00:00+09:00)")
    settings = settings_or_exit(config)
    # One job's run: its summary and the database line are the output, not the migration log.
    _logging(logging.WARNING)
    typer.echo(f"mqlbot: database {describe_database(settings.database_url)}", err=True)
    _migrate(settings)

    from bot.jobs import JobNotAvailable, run_job_once

    try:
        summary = asyncio.run(run_job_once(settings, name, when))
    except JobNotAvailable as exc:
        fail(str(exc))
    except Exception as exc:  # the slot records the failure; the operator gets one line
        logging.getLogger("mqlbot.jobs").debug("job %s failed", name, exc_info=exc)
        fail(f"job {name} failed: {type(exc).__name__}: {exc}", code=1)
    typer.echo(json.dumps(summary, ensure_ascii=False, default=str))


@import_app.command("events")
def import_events(
    source: Annotated[
        str,
        typer.Argument(metavar="FILE", help="Native events, one JSON object a line; - for stdin."),
    ],
    config: ConfigOption = None,
    name: Annotated[
        str | None,
        typer.Option(help="The import's name for resuming (default: the file's path, or stdin)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=50_000, help="Events per transaction (and checkpoint).")
    ] = 2000,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget the checkpoint: read from the first line.")
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Store the valid lines, leave out and list the bad."),
    ] = False,
    max_errors: Annotated[int, typer.Option(min=1, help="List at most this many problems.")] = 100,
    progress: Annotated[bool, typer.Option(help="Show progress on stderr.")] = True,
) -> None:
    """Backfill events (e.g. a year of history): resumable, same scoring and dedupe as the webhook."""
    settings = settings_or_exit(config)
    if source != "-" and not Path(source).is_file():
        fail(f"{source}: no such file")
    _migrate(settings)

    from bot.backfill import ImportOptions, run_import

    options = ImportOptions(
        source=source,
        name=name,
        batch_size=batch_size,
        max_errors=max_errors,
        skip_invalid=skip_invalid,
        restart=restart,
        progress=progress,
    )
    raise typer.Exit(run_import(settings, options))


@app.command()
def manifest(
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="Public base URL, e.g. https://mqlbot.example.com", metavar="URL"
        ),
    ] = None,
    socket_mode: Annotated[
        bool, typer.Option("--socket", help="The Socket Mode variant (no request URLs).")
    ] = False,
) -> None:
    """Print the Slack app manifest with the request URLs filled in."""
    from manifests import load_manifest

    try:
        data = load_manifest(socket_mode=socket_mode, base_url=url)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and print what is in force (secrets masked)."""
    settings = settings_or_exit(config)
    try:
        from bot.runtime import handler_config

        handler_config(settings)
    except ValueError as exc:
        fail(f"config: {exc}")
    typer.echo(json.dumps(settings.masked(), indent=2, ensure_ascii=False))


FromOption = Annotated[
    str | None,
    typer.Option("--from", help="First day (YYYY-MM-DD, local) or instant (ISO-8601 with offset)."),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last day, included (YYYY-MM-DD), or end instant; default now."),
]


@report_app.command("funnel")
def report_funnel(
    config: ConfigOption = None,
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[str, typer.Option(help="Group by source, campaign or band.")] = "source",
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """MQL → SQL → opportunity → won of the MQLs created in the period, as they stand now."""
    from bot.report import funnel_text
    from handlers.present.funnel_report import FORMATS
    from store.funnel import GROUPINGS

    if by not in GROUPINGS:
        fail(f"--by {by!r}: use one of {', '.join(GROUPINGS)}")
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    settings = settings_or_exit(config)
    _migrate(settings)
    try:
        typer.echo(asyncio.run(funnel_text(settings, start, end, by, fmt)))
    except ValueError as exc:
        fail(str(exc))


@report_app.command("calibration")
def report_calibration(
    config: ConfigOption = None,
    days: Annotated[
        int | None,
        typer.Option(help="MQLs of the last N days (default [funnel] calibration_days)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """What thresholds around the current one would have produced; never changes it."""
    from bot.report import calibration_text

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: use table or json")
    if days is not None and not 1 <= days <= 3650:
        fail(f"--days {days}: from 1 to 3650")
    settings = settings_or_exit(config)
    _migrate(settings)
    typer.echo(asyncio.run(calibration_text(settings, days, fmt)))


def main() -> None:
    """Console entry point."""
    app()
