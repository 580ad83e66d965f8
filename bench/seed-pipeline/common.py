"""What the seed pipeline's scripts share: where Kafka is, the topic names, one-line status output.

The pipeline is the project's starting point re-created with kafka-python and its default
client settings, as a baseline for bench/drain.bench.ts. Every script reads:

  KAFKA_BROKERS     host:port[,host:port]                      (default 127.0.0.1:9092)
  SEED_NAMESPACE    prefix of the topic names, so runs do not collide: <namespace>.order_details
  SEED_ORDERS       how many orders the run has (the producer sends them; services report reaching it)

and writes one JSON object per line on stdout (`ready`, `progress`, `done`), each with `at`, the
wall-clock time in seconds, so the benchmark can time the run across processes.

kafka-python 3.0.12 against Kafka 4.x: its default api_version=None negotiates with the broker
(ApiVersions), finds (4, 3) on Kafka 4.4 and works; no explicit api_version is needed.
"""
import json
import os
import sys
import time

BOOTSTRAP_SERVERS = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092").split(",")
_NAMESPACE = os.environ.get("SEED_NAMESPACE", "")
ORDER_KAFKA_TOPIC = f"{_NAMESPACE}.order_details" if _NAMESPACE else "order_details"
ORDER_CONFIRMED_KAFKA_TOPIC = f"{_NAMESPACE}.order_confirmed" if _NAMESPACE else "order_confirmed"
ORDER_LIMIT = int(os.environ.get("SEED_ORDERS", "20000"))
PROGRESS_SECONDS = 1.0


def report(event, **fields):
    """One status line for the benchmark, e.g. {"event": "done", "service": "analytics", "count": 20000, "at": …}."""
    sys.stdout.write(json.dumps({"event": event, "at": time.time(), **fields}) + "\n")
    sys.stdout.flush()


def wait_until_positioned(consumer, service):
    """Reports `ready` once the consumer has its partitions and knows where it starts.

    With the default group_id=None the consumer takes every partition of the topic itself and
    commits nothing; with the default auto_offset_reset='latest' it starts at the end of the
    log, so the producer must start only after every service has reported ready.
    """
    while not consumer.assignment():
        consumer.poll(timeout_ms=100)
    for partition in consumer.assignment():
        consumer.position(partition)
    report("ready", service=service)


class Progress:
    """Counts messages and reports the count every PROGRESS_SECONDS and once on reaching ORDER_LIMIT."""

    def __init__(self, service):
        self.service = service
        self.count = 0
        self.next_report = time.time() + PROGRESS_SECONDS

    def add(self, **extra):
        self.count += 1
        now = time.time()
        if self.count == ORDER_LIMIT:
            report("done", service=self.service, count=self.count, **extra)
        elif now >= self.next_report:
            report("progress", service=self.service, count=self.count, **extra)
            self.next_report = now + PROGRESS_SECONDS
