"""Serves the browser client's build (frontend/dist) on every client route."""
