"""Test harness: private PostgreSQL, Redis, Kafka and localstripe servers on free loopback ports.

Each `running_*` context manager starts a real server, yields a frozen dataclass with its
connection details and start time (`started_in_s`), and stops it and drops its data on exit.
Run scripts/setup-services once first (redis-server and the Kafka jars).
"""

from tests.harness.kafka import KafkaServer, running_kafka
from tests.harness.localstripe import LocalStripeServer, running_localstripe
from tests.harness.ports import bound_socket, free_port, free_ports
from tests.harness.postgres import PostgresServer, outside_pytest_tmp, running_postgres
from tests.harness.process import ServiceStartError
from tests.harness.redis import RedisServer, running_redis

__all__ = [
    "KafkaServer",
    "LocalStripeServer",
    "PostgresServer",
    "RedisServer",
    "ServiceStartError",
    "bound_socket",
    "free_port",
    "free_ports",
    "outside_pytest_tmp",
    "running_kafka",
    "running_localstripe",
    "running_postgres",
    "running_redis",
]
