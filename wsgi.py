"""WSGI entry point: gunicorn wsgi:app."""

import logging

from tracker import create_app

# start-up messages (which store login throttling uses) go to the server's error log
logging.basicConfig(level=logging.INFO, format="[%(process)d] %(levelname)s %(name)s: %(message)s")

app = create_app()
