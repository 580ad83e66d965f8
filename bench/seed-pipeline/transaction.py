"""The transaction service: each order from order_details becomes an order_confirmed message.

Default KafkaConsumer (no group, so nothing is committed) and default KafkaProducer; nothing is
stored.
"""
import json

from kafka import KafkaConsumer, KafkaProducer

from common import BOOTSTRAP_SERVERS, ORDER_CONFIRMED_KAFKA_TOPIC, ORDER_KAFKA_TOPIC, Progress, wait_until_positioned

consumer = KafkaConsumer(ORDER_KAFKA_TOPIC, bootstrap_servers=BOOTSTRAP_SERVERS)
producer = KafkaProducer(bootstrap_servers=BOOTSTRAP_SERVERS)
wait_until_positioned(consumer, "transaction")
progress = Progress("transaction")

while True:
    for message in consumer:
        consumed_message = json.loads(message.value.decode())
        user_id = consumed_message["user_id"]
        total_cost = consumed_message["total_cost"]
        data = {
            "customer_id": user_id,
            "customer_email": f"{user_id}@example.com",
            "total_cost": total_cost,
        }
        producer.send(ORDER_CONFIRMED_KAFKA_TOPIC, json.dumps(data).encode("utf-8"))
        progress.add()
