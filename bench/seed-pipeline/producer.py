"""The order backend: sends ORDER_LIMIT orders as JSON to order_details, no key, as fast as it can.

kafka-python's KafkaProducer with its default settings (acks=1, linger_ms=0, batch_size=16384).
"""
import json

from kafka import KafkaProducer

from common import BOOTSTRAP_SERVERS, ORDER_KAFKA_TOPIC, ORDER_LIMIT, report

producer = KafkaProducer(bootstrap_servers=BOOTSTRAP_SERVERS)

report("first-send", service="producer")
for i in range(1, ORDER_LIMIT + 1):
    data = {
        "order_id": i,
        "user_id": f"tom_{i}",
        "total_cost": i * 5,
        "items": "burger,sandwich",
    }
    producer.send(ORDER_KAFKA_TOPIC, json.dumps(data).encode("utf-8"))
producer.flush()
report("done", service="producer", count=ORDER_LIMIT)
producer.close()
