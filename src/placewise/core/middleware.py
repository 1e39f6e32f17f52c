"""A strict Content-Security-Policy: every script and style is vendored and same-origin."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        tiles = settings.MAP_TILE_URL.split("/{", 1)[0] if settings.MAP_TILE_URL else ""
        img_src = "'self' data: blob:" + (f" {tiles.split('{')[0]}" if tiles else "")
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
