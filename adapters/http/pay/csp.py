"""The payment page's Content-Security-Policy: exactly the configured script origins (the
origins of the script URLs in settings, plus the scripts they load in turn), the frames and
APIs those scripts need, and nothing inline."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.settings import Settings


def script_urls(settings: Settings) -> tuple[str, ...]:
    return (
        settings.pay_stripe_js_url,
        settings.pay_braintree_client_js_url,
        settings.pay_braintree_paypal_js_url,
        settings.pay_turnstile_js_url,
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_csp(settings: Settings, *, simulated: bool = False) -> str:
    """`simulated`: the ledger serves the simulated scripts itself (adapters/http/pay/
    simulated.py), which load nothing and call only the ledger: its own origin alone."""
    scripts = _unique(["'self'", *map(origin, script_urls(settings)), *settings.pay_script_origins])
    frames = _unique(list(settings.pay_frame_origins)) or ["'none'"]
    connect = _unique(["'self'", *settings.pay_connect_origins])
    if simulated:
        scripts, frames, connect = ["'self'"], ["'none'"], ["'self'"]
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {' '.join(scripts)}",
            "style-src 'self'",
            "img-src 'self'",
            f"frame-src {' '.join(frames)}",
            f"connect-src {' '.join(connect)}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
