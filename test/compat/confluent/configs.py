#!/usr/bin/env python3
"""configs.py drives a Courier broker's topic configs and log compaction
with confluent-kafka-python (librdkafka), Debian's python3-confluent-kafka,
for test/compat/confluent_test.go. The Go test writes a list of actions
(JSON) to stdin; the script carries them out in order and prints one
result per action as one JSON object on stdout. An action that fails
reports its error (the Kafka error name, such as INVALID_RECORD, and the
broker's message) and the script goes on, so that the Go test decides
which failures are expected.

confluent-kafka 1.7.0 (Debian bookworm) has AdminClient.alter_configs
(AlterConfigs, which replaces a topic's whole set of configs) but not
incremental_alter_configs (added in 2.2.0).

Spec (stdin):
  {"brokers": "127.0.0.1:PORT", "actions": [
    {"op": "create", "topics": [{"topic": "t", "numPartitions": 1,
       "replicationFactor": -1, "configs": {"cleanup.policy": "compact"}}]},
    {"op": "describe", "topic": "t"},
    {"op": "alter", "topic": "t", "configs": {"name": "value"}},
    {"op": "produce", "topic": "t", "partition": 0,
     "batches": [[{"key": b64|null, "value": b64|null}]]},
    {"op": "read", "topic": "t", "partition": 0}]}
Output (stdout): {"results": [{"op", "ok", "error", "errorType",
  "created" | "configs" | "baseOffsets" | "records" | "end"}]}; describe's configs map each
  name to {value, source, isDefault}; produce's baseOffsets are each
  batch's first offset; read's records are {partition, offset, key,
  value} (offsets as strings, keys and values base64, null for null), end
  the offset at which it reached the end of the partition.
Exit status: 0 once every action ran, 1 on a failure outside the actions.
"""

import base64
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

# TIMEOUT bounds each admin call, flush and read, in seconds; the Go
# test's own timeout is longer.
TIMEOUT = 10.0


def b64(data):
    return None if data is None else base64.b64encode(data).decode()


def unb64(s):
    return None if s is None else base64.b64decode(s)


class ActionError(Exception):
    """A failed action: the Kafka error name and the message."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def kafka_error(e):
    """Turns a KafkaException or KafkaError into an ActionError."""
    err = e.args[0] if isinstance(e, KafkaException) and e.args else e
    if isinstance(err, KafkaError):
        return ActionError(err.name(), err.str())
    return ActionError(type(e).__name__, str(e))


def wait_all(futures):
    """Waits for admin futures; the first failure becomes an ActionError."""
    out = {}
    for key, f in futures.items():
        try:
            out[key] = f.result(timeout=TIMEOUT)
        except KafkaException as e:
            raise kafka_error(e)
    return out


def create(spec, admin, a):
    wait_all(admin.create_topics([
        NewTopic(t["topic"], num_partitions=t["numPartitions"],
                 replication_factor=t["replicationFactor"], config=t.get("configs") or {})
        for t in a["topics"]], operation_timeout=TIMEOUT))
    return {"created": True}


def describe(spec, admin, a):
    res = wait_all(admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, a["topic"])]))
    configs = {}
    for entries in res.values():
        for name, e in entries.items():
            configs[name] = {"value": e.value, "source": int(getattr(e.source, "value", e.source)), "isDefault": e.is_default}
    return {"configs": configs}


def alter(spec, admin, a):
    wait_all(admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, a["topic"], set_config=a["configs"])]))
    return {}


def produce(spec, admin, a):
    producer = Producer({"bootstrap.servers": spec["brokers"], "acks": "all",
                         "enable.idempotence": False, "linger.ms": 5,
                         "message.timeout.ms": int(TIMEOUT * 1000)})
    base_offsets, offsets, errors = [], [], []

    def report(err, msg):
        if err is not None:
            errors.append(err)
        else:
            offsets.append(msg.offset())

    for batch in a["batches"]:
        for m in batch:
            producer.produce(a["topic"], partition=a.get("partition", 0), key=unb64(m["key"]),
                             value=unb64(m["value"]), on_delivery=report)
        # One batch at a time: flush before the next.
        if producer.flush(TIMEOUT) != 0:
            raise ActionError("TIMED_OUT", "messages still in flight after %ss" % TIMEOUT)
        if errors:
            raise kafka_error(errors[0])
        base_offsets.append(str(min(offsets)))
        offsets.clear()
    return {"baseOffsets": base_offsets}


def read(spec, admin, a):
    consumer = Consumer({"bootstrap.servers": spec["brokers"], "group.id": "courier-compat-confluent",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "fetch.wait.max.ms": 100})
    try:
        consumer.assign([TopicPartition(a["topic"], a.get("partition", 0), OFFSET_BEGINNING)])
        records, deadline = [], time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return {"records": records, "end": msg.offset()}
                raise kafka_error(msg.error())
            records.append({"partition": msg.partition(), "offset": str(msg.offset()), "key": b64(msg.key()), "value": b64(msg.value())})
        raise ActionError("TIMED_OUT", "read %d records without reaching the end in %ss" % (len(records), TIMEOUT))
    finally:
        consumer.close()


ACTIONS = {"create": create, "describe": describe, "alter": alter, "produce": produce, "read": read}


def main():
    spec = json.load(sys.stdin)
    admin = AdminClient({"bootstrap.servers": spec["brokers"]})
    results = []
    for a in spec["actions"]:
        run = ACTIONS[a["op"]]
        try:
            results.append({"op": a["op"], "ok": True, **run(spec, admin, a)})
        except ActionError as e:
            results.append({"op": a["op"], "ok": False, "errorType": e.error_type, "error": str(e)})
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
