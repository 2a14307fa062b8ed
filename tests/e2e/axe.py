"""axe-core (Deque's accessibility engine, pinned as a dev dependency in services/web/package-lock.json and
installed by the web build into .cache/web/node_modules, never served by the gateway) run inside a page.

It is evaluated over the DevTools protocol, which the page's Content-Security-Policy does not govern, so the
pages keep their policy while axe runs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from services.settings import Settings


def axe_source(settings: Settings) -> str:
    path = Path(settings.stack.cache_dir) / "web" / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the stack's web build (npm ci of services/web) installs it")
    return path.read_text(encoding="utf-8")


def axe_violations(page: Page, settings: Settings, exclude: tuple[str, ...] = ()) -> list[str]:
    """Every WCAG 2.x A/AA and best-practice violation axe finds in the page as it is now: 'rule: target' lines."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source(settings))
    found: list[str] = page.evaluate("""async (exclude) => {
        const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
        const result = await axe.run(context, { resultTypes: ["violations"] });
        return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} (${v.help})`));
    }""", list(exclude))
    return found
