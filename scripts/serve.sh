#!/bin/sh
# `make run`: gunicorn and one job-queue worker beside it; stopping one (Ctrl-C, a signal, a crash) stops both.
set -u
VENV=${VENV:-.venv}
WORKERS=${WORKERS:-2}
PORT=${PORT:-5000}
"$VENV/bin/flask" --app tracker worker &
worker=$!
WEB_CONCURRENCY=$WORKERS "$VENV/bin/gunicorn" --workers "$WORKERS" --bind "127.0.0.1:$PORT" --access-logfile - wsgi:app &
web=$!
stop() { kill "$web" "$worker" 2>/dev/null; wait "$web" "$worker" 2>/dev/null; }
trap 'stop; exit 0' INT TERM
# whichever ends first ends the other
while kill -0 "$web" 2>/dev/null && kill -0 "$worker" 2>/dev/null; do sleep 1; done
stop
