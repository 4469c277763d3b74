"""The Grafana dashboards as code: each module builds one dashboard with grafana-foundation-sdk
(pinned to its build for Grafana 11.6); `python -m adapters.grafana` writes them as JSON into
deploy/grafana/dashboards/, which Grafana provisions from files (deploy/grafana/provisioning).

A development tool: the application never imports it. tests/unit/test_dashboards.py checks
that the committed JSON is what these modules make, and tests/integration/test_prometheus.py
evaluates every panel's PromQL against a real Prometheus scraping the real processes."""
