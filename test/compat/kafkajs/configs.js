#!/usr/bin/env node
// configs.js drives a Courier broker's topic configs and log compaction
// with kafkajs 2.2.4's admin client and producer, for
// test/compat/kafkajs_compaction_test.go. The Go test writes a list of
// actions (JSON) to stdin; the script carries them out in order and prints
// one result per action as one JSON object on stdout. An action that fails
// reports its error (kafkajs's error type, such as INVALID_RECORD) and the
// script goes on, so that the Go test decides which failures are expected.
//
// kafkajs 2.2.4 has alterConfigs (AlterConfigs, which replaces a topic's
// whole set of configs) but not IncrementalAlterConfigs: its request
// definition is registered as not implemented.
//
// Spec (stdin):
//   { "brokers": ["127.0.0.1:PORT"], "actions": [
//     { "op": "create", "topics": [ { "topic": "t", "numPartitions": 1,
//         "replicationFactor": -1, "configs": { "cleanup.policy": "compact" } } ] },
//     { "op": "describe", "topic": "t" },
//     { "op": "alter", "topic": "t", "configs": { "name": "value" } },
//     { "op": "produce", "topic": "t", "partition": 0, "compression": "none",
//       "batches": [ [ { "key": b64|null, "value": b64|null } ] ] },
//     { "op": "read", "topic": "t" } ] }
// Output (stdout): { "results": [ { "op", "ok", "error", "errorType",
//   "created" | "configs" | "baseOffsets" | "records" } ] }; describe's
//   configs map each name to { value, source, isDefault }.
// Exit status: 0 once every action ran, 1 on a failure outside the
// actions, 2 when the script's own deadline passes.

'use strict'

const { CompressionTypes, ConfigResourceTypes, Partitioners } = require('kafkajs')
const { exitAfter, newKafka, unb64, byPartition, readStdin, readBack, errorType } = require('./common')

// deadline bounds the whole script; the Go test's own timeout is longer.
const deadline = exitAfter('configs.js', 18000)

const codecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }

// configEntries turns { name: value } into kafkajs's [{ name, value }].
const configEntries = configs => Object.entries(configs || {}).map(([name, value]) => ({ name, value }))

// actions carries out each kind of action and returns its result fields.
const actions = {
  async create(kafka, admin, a) {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: a.topics.map(t => ({
        topic: t.topic,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        configEntries: configEntries(t.configs),
      })),
    })
    return { created }
  },

  async describe(kafka, admin, a) {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: a.topic }],
    })
    const configs = {}
    for (const r of res.resources) {
      if (r.errorCode !== 0) throw new Error(`describeConfigs ${r.resourceName}: error code ${r.errorCode} ${r.errorMessage}`)
      for (const e of r.configEntries) {
        configs[e.configName] = { value: e.configValue, source: e.configSource, isDefault: e.isDefault }
      }
    }
    return { configs }
  },

  async alter(kafka, admin, a) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: a.topic, configEntries: configEntries(a.configs) }],
    })
    return {}
  },

  async produce(kafka, admin, a) {
    // INVALID_RECORD is not retriable; two retries bound the others.
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 2 },
    })
    await producer.connect()
    try {
      const baseOffsets = []
      for (const batch of a.batches) {
        const res = await producer.send({
          topic: a.topic,
          acks: -1,
          timeout: 10000,
          compression: codecs[a.compression || 'none'],
          messages: batch.map(m => ({ partition: a.partition, key: unb64(m.key), value: unb64(m.value) })),
        })
        baseOffsets.push(res[0].baseOffset)
      }
      return { baseOffsets }
    } finally {
      await producer.disconnect()
    }
  },

  async read(kafka, admin, a) {
    const highs = (await admin.fetchTopicOffsets(a.topic)).map(({ partition, high }) => ({ partition, high })).sort(byPartition)
    return { records: await readBack(kafka, a.brokers, a.topic, highs) }
  },
}

async function main() {
  const spec = await readStdin()
  const kafka = newKafka('courier-compat-configs', spec.brokers)
  const admin = kafka.admin()
  await admin.connect()
  const results = []
  try {
    for (const a of spec.actions) {
      const run = actions[a.op]
      if (!run) throw new Error(`unknown action ${a.op}`)
      try {
        results.push({ op: a.op, ok: true, ...(await run(kafka, admin, { brokers: spec.brokers, ...a })) })
      } catch (e) {
        results.push({ op: a.op, ok: false, error: String(e && e.message), errorType: errorType(e) })
      }
    }
  } finally {
    await admin.disconnect()
  }
  process.stdout.write(JSON.stringify({ results }) + '\n')
}

main().then(
  () => {
    clearTimeout(deadline)
  },
  err => {
    process.stderr.write(`configs.js: ${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  }
)
