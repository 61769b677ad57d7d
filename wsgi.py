"""WSGI entry point: gunicorn wsgi:app."""

import logging

from tracker import create_app, heap

# start-up messages (which store login throttling uses) go to the server's error log
logging.basicConfig(level=logging.INFO, format="[%(process)d] %(levelname)s %(name)s: %(message)s")

# assembled in full now, not in the first request, and what lives as long as the worker is kept out of the cyclic
# collector's passes (tracker.heap)
app = heap.serve(create_app())
