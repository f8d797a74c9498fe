"""Composition root: settings, clients, web app, scheduler, sender and the command line."""
