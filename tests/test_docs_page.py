"""The /docs page through the TestClient: assets from the docs extra, a CDN only on request, a fallback."""

from __future__ import annotations

import pytest

from typedasgi import docs_page
from typedasgi.applications import TypedASGI
from typedasgi.testclient import TestClient


def test_the_page_loads_swagger_ui_from_the_app_itself() -> None:
    client = TestClient(TypedASGI(openapi_url="/openapi.json"), root_path="/api")
    page = client.get("/docs").text
    assert '<script src="/api/docs/assets/swagger-ui-bundle.js"' in page
    assert 'href="/api/docs/assets/swagger-ui.css"' in page
    assert "http://" not in page and "https://" not in page
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert "SwaggerUIBundle" in script.text
    assert client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    for name in ("index.html", "..%2Fpyproject.toml", "swagger-ui.js.map"):
        assert client.get(f"/docs/assets/{name}").status_code == 404, name


def test_a_cdn_only_when_asked_for() -> None:
    app = TypedASGI(openapi_url="/openapi.json", docs_assets_url="https://assets.example.org/swagger-ui/")
    client = TestClient(app)
    page = client.get("/docs").text
    assert '<script src="https://assets.example.org/swagger-ui/swagger-ui-bundle.js"' in page
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404  # nothing served locally


def test_without_the_docs_extra_the_page_lists_operations_and_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs_page, "swagger_ui_directory", lambda: None)
    client = TestClient(TypedASGI(openapi_url="/openapi.json"))
    page = client.get("/docs").text
    assert "pip install &#x27;typedasgi[docs]&#x27;" in page
    assert "<script>showFallback()</script>" in page and "swagger-ui-bundle.js" not in page
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404


def test_the_pinned_package_is_found() -> None:
    directory = docs_page.swagger_ui_directory()
    assert directory is not None and (directory / "swagger-ui.css").is_file()
