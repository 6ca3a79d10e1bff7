"""The collector/supervisor web UI: static files served by the app, a client of the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount_ui(app: FastAPI, directory: Path) -> None:
    app.mount("/", StaticFiles(directory=directory, html=True), name="ui")
