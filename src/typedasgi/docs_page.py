"""The ``/docs`` page: Swagger UI served by the app itself, with no request to any other host.

Swagger UI's files come from the ``docs`` extra (a pinned PyPI package that ships
them) and are served below the page's own URL, so the page works offline and
behind firewalls. A URL given as ``docs_assets_url`` (a CDN's Swagger UI folder)
loads them from there instead: only on that explicit request. Without either the
page lists the operations itself, with a line naming the extra.
"""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

from typedasgi.exceptions import HTTPException
from typedasgi.requests import Request
from typedasgi.responses import FileResponse, HTMLResponse, Response
from typedasgi.routing import BaseRoute, Route

__all__ = ["DocsPage", "swagger_ui_directory"]

_PACKAGE = "swagger_ui_bundle"  # the import name of the ``docs`` extra's package
_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})
_MISSING = "Swagger UI is not installed: pip install 'typedasgi[docs]' for the full page."


def swagger_ui_directory() -> Path | None:
    """The folder of Swagger UI's files in the ``docs`` extra, or None when it is not installed.

    Found without importing the package: only its files are used.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        versions = sorted(Path(location, "vendor").glob("swagger-ui-*"))
        if versions and (versions[-1] / "swagger-ui-bundle.js").is_file():
            return versions[-1]
    return None


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{head}
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; }}
#fallback {{ max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
#fallback .op {{ border: 1px solid #ccc; border-radius: 4px; margin: .5rem 0; padding: .5rem .75rem; }}
#fallback .method {{ display: inline-block; min-width: 4.5rem; font-weight: bold; text-transform: uppercase; }}
#fallback small {{ color: #555; }}
</style>
</head>
<body>
<div id="swagger-ui"></div>
<div id="fallback" hidden><h1>{title}</h1><p>{notice}The API document: <a href="{url}">{url}</a></p>
<div id="ops"></div></div>
<noscript><p>The API document is at <a href="{url}">{url}</a>.</p></noscript>
<script>
const specUrl = {url_json};
function el(tag, text) {{ const node = document.createElement(tag); if (text) node.textContent = text; return node; }}
function showFallback() {{
  document.getElementById("fallback").hidden = false;
  fetch(specUrl).then((r) => r.json()).then((doc) => {{
    const ops = document.getElementById("ops");
    for (const [path, methods] of Object.entries(doc.paths || {{}})) {{
      for (const [method, op] of Object.entries(methods)) {{
        const box = el("div"); box.className = "op";
        const verb = el("span", method); verb.className = "method";
        box.append(verb, el("code", path), el("p", op.summary || ""));
        const params = (op.parameters || []).map((p) => p.name + " (" + p.in + (p.required ? ", required" : "") + ")");
        if (params.length) box.append(el("small", "Parameters: " + params.join(", ")));
        ops.append(box);
      }}
    }}
  }});
}}
function showSwagger() {{
  // validatorUrl: null - Swagger UI would otherwise send the document to an online validator
  window.SwaggerUIBundle({{ url: specUrl, dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true }});
}}
</script>
{body}
</body>
</html>
"""


class DocsPage:
    """The page at ``docs_url`` and its assets at ``docs_url + "/assets/<file>"``."""

    def __init__(self, title: str, openapi_url: str, docs_url: str, assets_url: str | None = None) -> None:
        self.title: str = title
        self.openapi_url: str = openapi_url
        self.docs_url: str = docs_url.rstrip("/") or "/"
        self.assets_url: str | None = assets_url.rstrip("/") if assets_url else None
        self.directory: Path | None = None if assets_url else swagger_ui_directory()

    def routes(self) -> list[BaseRoute]:
        own = self.docs_url.rstrip("/") + "/assets/{name}"
        return [
            Route(self.docs_url, self.page, include_in_schema=False, name="docs"),
            Route(own, self.asset, include_in_schema=False, name="docs_assets"),
        ]

    async def page(self, request: Request) -> Response:
        root_path = request.scope.get("root_path", "")
        url = root_path + self.openapi_url
        base = self.assets_url or (
            root_path + self.docs_url.rstrip("/") + "/assets" if self.directory is not None else None
        )
        if base is None:
            head, body, notice = "", "<script>showFallback()</script>", html.escape(_MISSING) + " "
        else:
            base = html.escape(base)
            head = f'<link rel="stylesheet" href="{base}/swagger-ui.css">\n<link rel="icon" href="{base}/favicon-32x32.png">'
            body = f'<script src="{base}/swagger-ui-bundle.js" onload="showSwagger()" onerror="showFallback()"></script>'
            notice = ""
        return HTMLResponse(_PAGE.format(
            title=html.escape(self.title), url=html.escape(url), url_json=json.dumps(url).replace("<", "\\u003c"),
            head=head, body=body, notice=notice,
        ))

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if self.directory is None or name not in _ASSETS:
            raise HTTPException(404)
        # the files are pinned with the package: a browser may keep them for a day
        return FileResponse(self.directory / name, headers={"Cache-Control": "public, max-age=86400"})
