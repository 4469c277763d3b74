"""NinjaPanel, the support console: server-rendered pages (Jinja2 templates, htmx vendored
in static/vendor, one stylesheet; no JavaScript build step) under /console/, for support
principals signed in by a short-lived, single-use link (links.py) with a browser session
(sessions.py). docs/architecture.md, "The support console", says how the parts fit."""
