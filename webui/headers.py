"""Security headers on every answer, set in one place.

The Content-Security-Policy lets only the site's own files run: every script is a file under
`static/` (the vendored bpmn-js and Swagger UI included), so no inline script and no other
origin does, which is what stops an injected `<script>` even if escaping ever failed. Styles
allow inline `style` attributes because the vendored diagram and API viewers set them on the
elements they draw; a style cannot run code. Pages cannot be framed (clickjacking), types are
not sniffed, and a link followed to another site is not told which case page it came from.

The administrators' modelers (vendored bpmn-js and dmn-js) run under this policy unchanged,
so it gives them nothing more: no 'unsafe-eval' (dmn-js carries one `new Function`, in
dom-iterator's string selectors, a path it never takes; tests/browser/test_admin_modeler.py
fails on any violation), their icon fonts are files under `static/` ('self'), and the inline
`style` they set on what they draw is the same allowance the viewers need.
"""

from __future__ import annotations

from flask import Flask, Response

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def register(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            # A page is read fresh each time: the back button after a task was done asks the
            # server (and says it is done) instead of showing the old form; a shared computer
            # keeps no case page after sign-out.
            response.headers["Cache-Control"] = "no-store"
        return response
