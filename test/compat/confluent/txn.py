#!/usr/bin/env python3
"""txn.py runs the exactly-once workload of internal/testkit/testtxn with
confluent-kafka-python (librdkafka), for test/compat/confluent_txn_test.go:
first one transaction written and aborted on purpose (values prefixed
"ABORTED:"), then a consumer in a group (isolation.level read_committed)
whose polled records are transformed ("out:" + value) and produced to the
output topic in transactions that also commit the consumed offsets
(send_offsets_to_transaction), until every input record is done.

Spec (stdin): {"brokers": "host:port", "in": t, "out": t, "group": g,
  "transactionalId": id, "records": N, "partitions": P}
Output (stdout): {"ok": true, "transactions": n, "transformed": N} or
  {"ok": false, "error": "..."}.
Exit status: 0 when the output was written, 1 on a failure; the script
gives up after its deadline (45 s).
"""

import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

DEADLINE = time.monotonic() + 45


def main(spec):
    producer = Producer({
        "bootstrap.servers": spec["brokers"],
        "transactional.id": spec["transactionalId"],
        "transaction.timeout.ms": 30000,
    })
    producer.init_transactions(20)

    # The aborted transaction: one record per output partition.
    producer.begin_transaction()
    for p in range(spec["partitions"]):
        producer.produce(spec["out"], value=("ABORTED:out:doomed-%d" % p).encode(), partition=p)
    producer.flush(20)
    producer.abort_transaction(20)

    consumer = Consumer({
        "bootstrap.servers": spec["brokers"],
        "group.id": spec["group"],
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    consumer.subscribe([spec["in"]])
    transformed, transactions = 0, 1
    while transformed < spec["records"]:
        if time.monotonic() > DEADLINE:
            raise RuntimeError("deadline passed after %d of %d records" % (transformed, spec["records"]))
        msgs = consumer.consume(num_messages=100, timeout=1.0)
        msgs = [m for m in msgs if m.error() is None]
        if not msgs:
            continue
        producer.begin_transaction()
        nexts = {}
        for m in msgs:
            producer.produce(spec["out"], key=m.key(), value=b"out:" + m.value(), partition=m.partition())
            nexts[m.partition()] = m.offset() + 1
        positions = [TopicPartition(spec["in"], p, o) for p, o in sorted(nexts.items())]
        producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 20)
        producer.commit_transaction(20)
        transactions += 1
        transformed += len(msgs)
    consumer.close()
    return {"transactions": transactions, "transformed": transformed}


if __name__ == "__main__":
    try:
        res = main(json.load(sys.stdin))
        print(json.dumps(dict(ok=True, **res)))
    except Exception as e:  # the Go test reports it
        print(json.dumps({"ok": False, "error": repr(e)}))
        sys.exit(1)
