"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served from the package.

FastAPI's own pages load both viewers from a CDN and start Swagger UI with an inline script,
so offline they are blank and they need a relaxed Content-Security-Policy. These load the
viewers from `rolodex/vendor/` (their versions and licences: `vendor/README.md`) and start
them from files, so they run under the pages' strict policy and load nothing from elsewhere.
The pages are for developers and stay in English, like the OpenAPI document they show.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR_DIR = Path(__file__).parent / "vendor"
ASSETS_URL = "/docs/assets"

router = APIRouter(include_in_schema=False)

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/docs/docs.css">
"""

_SWAGGER = (
    _HEAD
    + """<link rel="stylesheet" href="{assets}/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs/swagger-init.js"></script>
</body>
</html>
"""
)

_REDOC = (
    _HEAD
    + """</head>
<body>
<redoc spec-url="{openapi_url}"></redoc>
<script src="{assets}/redoc/redoc.standalone.js"></script>
</body>
</html>
"""
)


def _page(request: Request, template: str, viewer: str) -> HTMLResponse:
    app = request.app
    root = request.scope.get("root_path", "")
    return HTMLResponse(
        template.format(
            title=escape(f"{app.title} API · {viewer}"),
            assets=escape(root + ASSETS_URL),
            openapi_url=escape(root + (app.openapi_url or "/openapi.json")),
        )
    )


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """The interactive API reference (Swagger UI)."""
    return _page(request, _SWAGGER, "Swagger UI")


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """The API reference as one readable page (ReDoc)."""
    return _page(request, _REDOC, "ReDoc")


def assets() -> StaticFiles:
    """The vendored viewers' files, mounted at ASSETS_URL."""
    return StaticFiles(directory=str(VENDOR_DIR))
