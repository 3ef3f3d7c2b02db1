"""The WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi …`` both use it."""

from webapp import create_app

app = create_app()
