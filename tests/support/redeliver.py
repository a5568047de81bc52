"""Send one RPC message as nameko's proxies do, and the same message again, as the broker does
when it redelivers a call whose reply or acknowledgement was lost (same body, same correlation
id). No nameko client is involved, so nothing de-duplicates on the way: the service must."""
from __future__ import annotations

import uuid
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko.exceptions import deserialize


class RawRpc:
    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri)
        self.exchange = Exchange("nameko-rpc", type="topic", durable=True)
        self.reply_key = uuid.uuid4().hex
        self.queue = Queue(f"rpc.reply-test-{self.reply_key}", exchange=self.exchange, routing_key=self.reply_key,
                           exclusive=True, auto_delete=True)
        self._inbox: dict[str, list[dict]] = {}
        # one consumer for the client's life: a reply delivered while nobody waits for it is kept
        self._consumer = self.conn.Consumer(self.queue, callbacks=[self._on_message], accept=["json"])
        self._consumer.consume()

    def _on_message(self, body, message) -> None:
        message.ack()
        self._inbox.setdefault(message.properties.get("correlation_id"), []).append(body)

    def send(self, service: str, method: str, *args: Any, correlation_id: str | None = None, **kwargs: Any) -> str:
        correlation_id = correlation_id or uuid.uuid4().hex
        with self.conn.Producer() as producer:
            producer.publish({"args": list(args), "kwargs": kwargs}, exchange=self.exchange,
                             routing_key=f"{service}.{method}", reply_to=self.reply_key,
                             correlation_id=correlation_id, serializer="json", declare=[self.exchange])
        return correlation_id

    def reply(self, correlation_id: str, timeout: float = 10) -> dict:
        """The next reply body `{result, error}` for `correlation_id` (replies to other calls are
        kept for their own `reply`)."""
        while not self._inbox.get(correlation_id):
            self.conn.drain_events(timeout=timeout)
        return self._inbox[correlation_id].pop(0)

    def call(self, service: str, method: str, *args: Any, correlation_id: str | None = None, wait: float = 10,
             **kwargs: Any) -> Any:
        """Send and wait (`wait` seconds); returns the result or raises the (deserialised) error."""
        body = self.reply(self.send(service, method, *args, correlation_id=correlation_id, **kwargs), wait)
        if body.get("error"):
            raise deserialize(body["error"])
        return body["result"]

    def close(self) -> None:
        self.conn.release()
