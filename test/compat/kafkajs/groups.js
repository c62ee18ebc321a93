#!/usr/bin/env node
// groups.js drives a Courier broker's consumer groups with kafkajs 2.2.4's
// public API, for test/compat/kafkajs_groups_test.go. One process plays one
// part, chosen by the first argument; the second is a JSON spec:
//
//   create  {brokers, topic, numPartitions}
//           creates the topic (admin.createTopics) and prints {"created": bool}.
//   produce {brokers, topic, messages: [{partition, key, value}]}
//           sends the messages in one producer.send (acks -1) and prints
//           {"results": [{partition, baseOffset}]}.
//   inspect {brokers, topic, groupIds}
//           prints what the admin client sees of the groups: listGroups,
//           describeGroups (assignments decoded) and fetchOffsets of topic:
//           {"list": [{groupId, protocolType}],
//            "describe": [{groupId, state, protocolType, protocol, errorCode,
//                          members: [{clientId, clientHost, assignment}]}],
//            "offsets": {groupId: [{partition, offset}]}}
//   consume {brokers, topic, groupId, clientId, sessionTimeout,
//            heartbeatInterval, rebalanceTimeout, slowMarker, slowMs, deadlineMs}
//           runs kafka.consumer({groupId}).run({eachMessage}) with kafkajs's
//           default auto-commit (after each batch, and before rejoining on a
//           rebalance) and prints one JSON object per line as things happen:
//             {"ev":"join","member":id,"assignment":[partitions]}  GROUP_JOIN
//             {"ev":"msg","p":0,"o":"12","k":key,"v":value}       eachMessage
//             {"ev":"commit","gen":n,"offsets":[{"p":0,"o":"13"}]} COMMIT_OFFSETS
//             {"ev":"crash","error":msg}                          CRASH
//             {"ev":"stopped"}                                     after SIGTERM
//           A message whose value contains slowMarker takes slowMs to process,
//           so that a test can kill the process in the middle of a batch.
//           SIGTERM disconnects the consumer (it commits and leaves the group)
//           and exits 0.
//
// Stdout carries only JSON; kafkajs's own warnings and errors go to stderr.
// Every process exits by itself (status 2) when its deadline passes.

'use strict'

const { Kafka, Partitioners, AssignerProtocol, logLevel } = require('kafkajs')

const mode = process.argv[2]
const spec = JSON.parse(process.argv[3] || '{}')

const deadlineMs = spec.deadlineMs || 60000
const deadline = setTimeout(() => {
  process.stderr.write(`groups.js ${mode}: deadline of ${deadlineMs} ms passed\n`)
  process.exit(2)
}, deadlineMs)

// emit writes one event line. Writes to a pipe are synchronous on Linux,
// so a line is out before a later process.exit.
const emit = obj => process.stdout.write(JSON.stringify(obj) + '\n')

const stderrLogger = () => ({ namespace, label, log }) => {
  const { message, ...extra } = log
  process.stderr.write(`kafkajs ${label} [${namespace}] ${message} ${JSON.stringify(extra)}\n`)
}

const kafka = new Kafka({
  clientId: spec.clientId || 'courier-groups',
  brokers: spec.brokers,
  connectionTimeout: 3000,
  requestTimeout: 10000,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  logLevel: logLevel.WARN,
  logCreator: stderrLogger,
})

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function create() {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const created = await admin.createTopics({
      topics: [{ topic: spec.topic, numPartitions: spec.numPartitions, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    emit({ created })
  } finally {
    await admin.disconnect()
  }
}

async function produce() {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const res = await producer.send({
      topic: spec.topic,
      acks: -1,
      timeout: 10000,
      messages: spec.messages.map(m => ({ partition: m.partition, key: m.key, value: m.value })),
    })
    emit({ results: res.map(({ partition, baseOffset }) => ({ partition, baseOffset })) })
  } finally {
    await producer.disconnect()
  }
}

async function inspect() {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const list = (await admin.listGroups()).groups
      .map(({ groupId, protocolType }) => ({ groupId, protocolType }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : 1))
    const describe = (await admin.describeGroups(spec.groupIds)).groups.map(g => ({
      groupId: g.groupId,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      errorCode: g.errorCode,
      members: g.members
        .map(m => {
          const decoded = m.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null
          const assignment = ((decoded && decoded.assignment[spec.topic]) || []).slice().sort((a, b) => a - b)
          return { clientId: m.clientId, clientHost: m.clientHost, assignment }
        })
        .sort((a, b) => (a.clientId < b.clientId ? -1 : 1)),
    }))
    const offsets = {}
    for (const groupId of spec.groupIds) {
      const res = await admin.fetchOffsets({ groupId, topics: [spec.topic] })
      offsets[groupId] = res
        .filter(t => t.topic === spec.topic)
        .flatMap(t => t.partitions.map(({ partition, offset }) => ({ partition, offset })))
        .sort((a, b) => a.partition - b.partition)
    }
    emit({ list, describe, offsets })
  } finally {
    await admin.disconnect()
  }
}

async function consume() {
  const consumer = kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: spec.sessionTimeout,
    rebalanceTimeout: spec.rebalanceTimeout,
    heartbeatInterval: spec.heartbeatInterval,
    // A short fetch wait lets an idle member heartbeat (kafkajs heartbeats
    // between fetches) and notice a rebalance quickly.
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
  })
  const { GROUP_JOIN, COMMIT_OFFSETS, CRASH } = consumer.events
  consumer.on(GROUP_JOIN, ({ payload }) => {
    const assignment = (payload.memberAssignment[spec.topic] || []).slice().sort((a, b) => a - b)
    emit({ ev: 'join', member: payload.memberId, assignment })
  })
  consumer.on(COMMIT_OFFSETS, ({ payload }) => {
    const offsets = []
    for (const t of payload.topics) {
      if (t.topic !== spec.topic) continue
      for (const p of t.partitions) offsets.push({ p: Number(p.partition), o: String(p.offset) })
    }
    emit({ ev: 'commit', gen: payload.groupGenerationId, offsets })
  })
  consumer.on(CRASH, ({ payload }) => {
    emit({ ev: 'crash', error: String(payload.error && payload.error.message ? payload.error.message : payload.error) })
  })

  let stopping = false
  process.on('SIGTERM', () => {
    if (stopping) return
    stopping = true
    consumer
      .disconnect()
      .then(
        () => emit({ ev: 'stopped' }),
        err => process.stderr.write(`groups.js: disconnect: ${err && err.stack ? err.stack : err}\n`)
      )
      .finally(() => process.exit(0))
  })

  await consumer.connect()
  await consumer.subscribe({ topics: [spec.topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const value = message.value === null ? null : message.value.toString('utf8')
      emit({ ev: 'msg', p: partition, o: message.offset, k: message.key === null ? null : message.key.toString('utf8'), v: value })
      if (spec.slowMarker && value !== null && value.includes(spec.slowMarker)) await sleep(spec.slowMs)
    },
  })
  // run() returns once the consumer is running; the process lives on until
  // SIGTERM, SIGKILL or the deadline.
}

const parts = { create, produce, inspect, consume }

if (!parts[mode]) {
  process.stderr.write(`groups.js: unknown mode ${JSON.stringify(mode)}\n`)
  process.exit(1)
}

parts[mode]().then(
  () => {
    if (mode !== 'consume') clearTimeout(deadline)
  },
  err => {
    process.stderr.write(`groups.js ${mode}: ${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  }
)
