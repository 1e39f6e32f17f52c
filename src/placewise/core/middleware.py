"""A strict Content-Security-Policy: every script and style is vendored and same-origin."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def tile_source(url: str) -> str:
    """The CSP source that admits a tile URL template such as https://{s}.tiles.x/{z}/{x}/{y}.png.

    Leaflet's ``{s}`` subdomain becomes a leading wildcard; any other template field in the
    host falls back to the scheme alone.
    """
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}.", "*."))
    host = parts.netloc
    if not parts.scheme or not host:
        return ""
    if "{" in host or ("*" in host and not host.startswith("*.")):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        tiles = tile_source(settings.MAP_TILE_URL)
        img_src = "'self' data: blob:" + (f" {tiles}" if tiles else "")
        self.policy = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img_src}; connect-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'self'; object-src 'none'"
        )

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/docs"):
            response.setdefault("Content-Security-Policy", self.policy)
        return response
