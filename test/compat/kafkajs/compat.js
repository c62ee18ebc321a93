#!/usr/bin/env node
// compat.js drives a Courier broker with kafkajs 2.2.4, as a Node.js
// application would, for test/compat/kafkajs_test.go. The Go test writes a
// spec (JSON) to stdin; this script creates the topic, inspects it with the
// admin client, produces the spec's sends, reads every partition back from
// offset 0 and prints what it saw as one JSON object on stdout. The Go test
// compares that byte for byte with what it asked to send. Keys, values and
// header values travel as base64 both ways, so any bytes survive JSON.
//
// Reading back is common.js's readBack: plain Fetch requests from explicit
// offsets through kafkajs's own lower layers, without a consumer group.
//
// Spec (stdin):
//   { "brokers": ["127.0.0.1:PORT"], "topic": "t", "numPartitions": 2,
//     "timestampQuery": "<ms>",
//     "sends": [ { "acks": -1|1, "compression": "none"|"gzip",
//                  "idempotent": bool,
//                  "messages": [ { "partition": 0, "key": b64|null,
//                                  "value": b64|null, "timestamp": "<ms>",
//                                  "headers": [["name", b64], ...] } ] } ] }
// Output (stdout): see the `out` object below; Go's kafkajsOutput mirrors it.
// Exit status: 0 on success, 1 on any error (message on stderr), 2 when the
// script's own deadline passes.

'use strict'

const { CompressionTypes, Partitioners } = require('kafkajs')
const { exitAfter, newKafka, unb64, toHeaders, byPartition, readStdin, readBack } = require('./common')

// deadline bounds the whole script; the Go test's own timeout is longer.
const deadline = exitAfter('compat.js', 45000)

async function main() {
  const spec = await readStdin()
  const kafka = newKafka('courier-compat', spec.brokers)
  const out = {}
  const admin = kafka.admin()
  await admin.connect()
  try {
    out.createTopics = await admin.createTopics({
      topics: [{ topic: spec.topic, numPartitions: spec.numPartitions, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    // A second create of the same topic answers false (TOPIC_ALREADY_EXISTS).
    out.createTopicsAgain = await admin.createTopics({
      topics: [{ topic: spec.topic, numPartitions: spec.numPartitions, replicationFactor: 1 }],
    })
    out.listTopics = (await admin.listTopics()).sort()
    const md = await admin.fetchTopicMetadata({ topics: [spec.topic] })
    out.metadata = md.topics.map(t => ({
      name: t.name,
      partitions: t.partitions
        .map(p => ({
          partitionErrorCode: p.partitionErrorCode,
          partitionId: p.partitionId,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
        }))
        .sort((a, b) => a.partitionId - b.partitionId),
    }))
    const offsets = async () => (await admin.fetchTopicOffsets(spec.topic)).map(({ partition, low, high }) => ({ partition, low, high })).sort(byPartition)
    out.offsetsBefore = await offsets()

    const plain = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
    const idempotent = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
      // kafkajs warns unless an idempotent producer retries without limit;
      // the script's deadline bounds it instead.
      retry: { retries: Number.MAX_SAFE_INTEGER },
    })
    await plain.connect()
    await idempotent.connect()
    try {
      out.sendResults = []
      for (const send of spec.sends) {
        const producer = send.idempotent ? idempotent : plain
        const res = await producer.send({
          topic: spec.topic,
          acks: send.acks,
          timeout: 10000,
          compression: send.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          messages: send.messages.map(m => ({
            partition: m.partition,
            key: unb64(m.key),
            value: unb64(m.value),
            headers: toHeaders(m.headers),
            timestamp: m.timestamp,
          })),
        })
        out.sendResults.push(
          res.map(({ partition, errorCode, baseOffset }) => ({ partition, errorCode, baseOffset })).sort(byPartition)
        )
      }
    } finally {
      await plain.disconnect()
      await idempotent.disconnect()
    }

    out.offsetsAfter = await offsets()
    out.offsetsByTimestamp = (await admin.fetchTopicOffsetsByTimestamp(spec.topic, Number(spec.timestampQuery))).sort(byPartition)
    out.records = await readBack(kafka, spec.brokers, spec.topic, out.offsetsAfter)
  } finally {
    await admin.disconnect()
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().then(
  () => {
    clearTimeout(deadline)
  },
  err => {
    process.stderr.write(`compat.js: ${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  }
)
