"""The email service: "sends" a confirmation for each order_confirmed message (keeps the set
of addresses written to; no mail server, nothing stored). Default KafkaConsumer, no commits.
(Not named email.py: that would hide Python's own email package from every import.)"""
import json

from kafka import KafkaConsumer

from common import BOOTSTRAP_SERVERS, ORDER_CONFIRMED_KAFKA_TOPIC, Progress, wait_until_positioned

consumer = KafkaConsumer(ORDER_CONFIRMED_KAFKA_TOPIC, bootstrap_servers=BOOTSTRAP_SERVERS)
wait_until_positioned(consumer, "email")
progress = Progress("email")
emails_sent_so_far = set()

while True:
    for message in consumer:
        consumed_message = json.loads(message.value.decode())
        customer_email = consumed_message["customer_email"]
        emails_sent_so_far.add(customer_email)
        progress.add(emails=len(emails_sent_so_far))
