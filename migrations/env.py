"""Alembic environment: the URL comes from the caller, TRACKER_DATABASE_URL, or the default instance file."""

from __future__ import annotations

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context

from tracker.config import default_database_url
from tracker.db import make_engine
from tracker.models import Base

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("TRACKER_DATABASE_URL")
    if url:
        return url
    instance = Path(os.environ.get("TRACKER_INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    return default_database_url(str(instance))


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
