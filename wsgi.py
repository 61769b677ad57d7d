"""WSGI entry point: gunicorn wsgi:app."""

import gc
import logging

from tracker import create_app

# start-up messages (which store login throttling uses) go to the server's error log
logging.basicConfig(level=logging.INFO, format="[%(process)d] %(levelname)s %(name)s: %(message)s")

app = create_app()
# a server assembles the whole app (pages, URL rules, models) now, not in its first request, and before the freeze
app.assemble()
# What the app factory leaves behind (models, mappers, URL rules, templates' environment) lives as long as the worker:
# keep it out of the cyclic collector's passes, which otherwise walk it on every full collection a page triggers.
gc.freeze()
