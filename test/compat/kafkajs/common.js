// common.js is what the kafkajs scripts share: a logger that keeps stdout
// for their JSON reports, base64 for keys, values and headers (any bytes
// survive JSON), reading the spec from stdin, and reading partitions back
// from offset 0 without a consumer group.
//
// Reading back: kafkajs's only consumer is a group consumer; groups.js
// tests that one. readBack checks plain fetching from explicit offsets, so
// it reads with kafkajs's own lower layers, which need no group: a Cluster
// (require('kafkajs/src/cluster'), built with the same options
// Kafka#[CREATE_CLUSTER] passes) finds each partition's leader, and that
// Broker's fetch() sends Fetch requests from explicit offsets, decoded by
// kafkajs's own record-batch decoder (gzip included). These are internal
// modules, pinned by the exact "kafkajs": "2.2.4" dependency.

'use strict'

const { Kafka, logLevel } = require('kafkajs')
const Cluster = require('kafkajs/src/cluster')
const defaultSocketFactory = require('kafkajs/src/network/socketFactory')

// exitAfter ends the process with status 2 once ms have passed, saying so
// on stderr: it bounds a whole script (the Go test's own timeout is
// longer). Clear the returned timer when the script is done.
const exitAfter = (script, ms) =>
  setTimeout(() => {
    process.stderr.write(`${script}: deadline of ${ms} ms passed\n`)
    process.exit(2)
  }, ms)

// maxFetches bounds the read-back loop per partition.
const maxFetches = 100

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

// readBack fetches the partitions of topic listed in highs ([{partition,
// high}]) from offset 0 up to their high watermarks through the partition
// leaders, without a consumer group; offsets a compacted partition no
// longer has are skipped as a fetch skips them.
async function readBack(kafka, brokers, topic, highs) {
  const cluster = new Cluster({
    logger: kafka.logger(),
    socketFactory: defaultSocketFactory(),
    brokers,
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
    await cluster.addTargetTopic(topic)
    const partitions = highs.map(h => h.partition)
    const leaders = cluster.findLeaderForPartitions(topic, partitions)
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
            topics: [{ topic: topic, partitions: [{ partition, fetchOffset: next.toString(), maxBytes: 1 << 20 }] }],
          })
          for (const t of resp.responses) {
            for (const p of t.partitions) {
              if (p.errorCode !== 0) throw new Error(`fetch ${topic}[${p.partition}] at ${next}: error code ${p.errorCode}`)
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

// newKafka is the client every script uses: short timeouts, so that a
// broker that stops answering fails the test quickly, and kafkajs's
// warnings and errors on stderr.
const newKafka = (clientId, brokers) =>
  new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 3 },
    logLevel: logLevel.WARN,
    logCreator: stderrLogger,
  })

// errorType is the Kafka error name of a kafkajs error (INVALID_RECORD,
// INVALID_CONFIG, ...), looking through the wrappers kafkajs puts around
// a broker's answer.
function errorType(e) {
  if (!e) return 'ERROR'
  if (e.type) return e.type
  if (e.originalError) return errorType(e.originalError)
  if (e.cause) return errorType(e.cause)
  if (Array.isArray(e.errors) && e.errors.length > 0) return errorType(e.errors[0])
  return e.name || 'ERROR'
}

module.exports = { exitAfter, newKafka, stderrLogger, b64, unb64, toHeaders, fromHeaders, byPartition, readStdin, readBack, errorType }
