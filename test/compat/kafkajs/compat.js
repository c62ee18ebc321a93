#!/usr/bin/env node
// compat.js drives a Courier broker with kafkajs 2.2.4, as a Node.js
// application would, for test/compat/kafkajs_test.go. The Go test writes a
// spec (JSON) to stdin; this script creates the topic, inspects it with the
// admin client, produces the spec's sends, reads every partition back from
// offset 0 and prints what it saw as one JSON object on stdout. The Go test
// compares that byte for byte with what it asked to send. Keys, values and
// header values travel as base64 both ways, so any bytes survive JSON.
//
// Reading back: kafkajs's only consumer is a group consumer; groups.js
// tests that one. This script checks plain fetching from explicit offsets,
// so it reads with kafkajs's own lower layers, which need no group:
// a Cluster (require('kafkajs/src/cluster'), built with the same options
// Kafka#[CREATE_CLUSTER] passes) finds each partition's leader, and that
// Broker's fetch() sends Fetch requests from explicit offsets, decoded by
// kafkajs's own record-batch decoder (gzip included). These are internal
// modules, pinned by the exact "kafkajs": "2.2.4" dependency.
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

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
const Cluster = require('kafkajs/src/cluster')
const defaultSocketFactory = require('kafkajs/src/network/socketFactory')

// deadlineMs bounds the whole script; the Go test's own timeout is longer.
const deadlineMs = 45000
// maxFetches bounds the read-back loop per partition.
const maxFetches = 100

const deadline = setTimeout(() => {
  process.stderr.write(`compat.js: deadline of ${deadlineMs} ms passed\n`)
  process.exit(2)
}, deadlineMs)

// stderrLogger sends kafkajs's warnings and errors to stderr, keeping stdout
// for the JSON result.
const stderrLogger = () => ({ namespace, level, label, log }) => {
  const { message, ...extra } = log
  process.stderr.write(`kafkajs ${label} [${namespace}] ${message} ${JSON.stringify(extra)}\n`)
}

const b64 = buf => (buf === null || buf === undefined ? null : Buffer.from(buf).toString('base64'))
const unb64 = s => (s === null || s === undefined ? null : Buffer.from(s, 'base64'))

// toHeaders turns [[name, b64], ...] into kafkajs's header object; a name
// given more than once becomes an array, kafkajs's form for repeated keys.
const toHeaders = pairs => {
  const h = {}
  for (const [name, value] of pairs || []) {
    const v = unb64(value)
    if (h[name] === undefined) h[name] = v
    else if (Array.isArray(h[name])) h[name].push(v)
    else h[name] = [h[name], v]
  }
  return h
}

// fromHeaders is toHeaders's inverse for what kafkajs decoded.
const fromHeaders = headers => {
  const pairs = []
  for (const [name, v] of Object.entries(headers || {})) {
    for (const one of Array.isArray(v) ? v : [v]) pairs.push([name, b64(one)])
  }
  return pairs
}

const byPartition = (a, b) => a.partition - b.partition

async function readStdin() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

// readBack fetches every partition of topic from offset 0 up to its high
// watermark through the partition leaders, without a consumer group.
async function readBack(kafka, spec, highs) {
  const cluster = new Cluster({
    logger: kafka.logger(),
    socketFactory: defaultSocketFactory(),
    brokers: spec.brokers,
    clientId: 'courier-compat-reader',
    connectionTimeout: 3000,
    requestTimeout: 10000,
    enforceRequestTimeout: true,
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
    retry: { retries: 3 },
  })
  await cluster.connect()
  try {
    await cluster.addTargetTopic(spec.topic)
    const partitions = highs.map(h => h.partition)
    const leaders = cluster.findLeaderForPartitions(spec.topic, partitions)
    const records = []
    for (const [nodeId, parts] of Object.entries(leaders)) {
      const broker = await cluster.findBroker({ nodeId })
      for (const partition of parts) {
        const high = BigInt(highs.find(h => h.partition === partition).high)
        let next = 0n
        for (let i = 0; next < high; i++) {
          if (i === maxFetches) throw new Error(`partition ${partition}: still at offset ${next} of ${high} after ${maxFetches} fetches`)
          const resp = await broker.fetch({
            replicaId: -1,
            isolationLevel: 0, // READ_UNCOMMITTED: there are no transactions
            maxWaitTime: 100,
            minBytes: 1,
            maxBytes: 1 << 20,
            topics: [{ topic: spec.topic, partitions: [{ partition, fetchOffset: next.toString(), maxBytes: 1 << 20 }] }],
          })
          for (const t of resp.responses) {
            for (const p of t.partitions) {
              if (p.errorCode !== 0) throw new Error(`fetch ${spec.topic}[${p.partition}] at ${next}: error code ${p.errorCode}`)
              for (const m of p.messages) {
                const offset = BigInt(m.offset)
                // A fetch returns whole batches: skip what precedes the
                // requested offset, and control records (none expected).
                if (offset < next || m.isControlRecord) continue
                records.push({
                  partition: p.partition,
                  offset: m.offset,
                  key: b64(m.key),
                  value: b64(m.value),
                  headers: fromHeaders(m.headers),
                  timestamp: m.timestamp,
                })
                next = offset + 1n
              }
            }
          }
        }
      }
    }
    records.sort((a, b) => byPartition(a, b) || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1))
    return records
  } finally {
    await cluster.disconnect()
  }
}

async function main() {
  const spec = await readStdin()
  const kafka = new Kafka({
    clientId: 'courier-compat',
    brokers: spec.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 3 },
    logLevel: logLevel.WARN,
    logCreator: stderrLogger,
  })
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
    out.records = await readBack(kafka, spec, out.offsetsAfter)
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
