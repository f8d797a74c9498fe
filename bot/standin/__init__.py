"""A local stand-in for the Slack Web API, used by the demo, end-to-end tests and benchmarks."""

from bot.standin.faults import Fault, FaultPlan, RateLimiter, RateLimitPolicy
from bot.standin.player import BotResponse, SlackUserPlayer
from bot.standin.render import render_channel, render_view
from bot.standin.runner import StandinServer
from bot.standin.server import create_standin_app
from bot.standin.state import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    MessageVersion,
    UploadedFile,
    User,
    View,
    Workspace,
)

__all__ = [
    "ApiCall",
    "BotResponse",
    "Channel",
    "Ephemeral",
    "Fault",
    "FaultPlan",
    "Message",
    "MessageVersion",
    "RateLimitPolicy",
    "RateLimiter",
    "SlackUserPlayer",
    "StandinServer",
    "UploadedFile",
    "User",
    "View",
    "Workspace",
    "create_standin_app",
    "render_channel",
    "render_view",
]
