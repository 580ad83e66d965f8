"""The analytics service: counts orders and sums revenue from order_confirmed, in memory.
Reports `done` when it has counted ORDER_LIMIT orders. Default KafkaConsumer, no commits."""
import json

from kafka import KafkaConsumer

from common import BOOTSTRAP_SERVERS, ORDER_CONFIRMED_KAFKA_TOPIC, Progress, wait_until_positioned

consumer = KafkaConsumer(ORDER_CONFIRMED_KAFKA_TOPIC, bootstrap_servers=BOOTSTRAP_SERVERS)
wait_until_positioned(consumer, "analytics")
progress = Progress("analytics")
total_orders_count = 0
total_revenue = 0

while True:
    for message in consumer:
        consumed_message = json.loads(message.value.decode())
        total_cost = float(consumed_message["total_cost"])
        total_orders_count += 1
        total_revenue += total_cost
        progress.add(orders=total_orders_count, revenue=total_revenue)
