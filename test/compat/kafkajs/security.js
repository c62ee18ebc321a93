#!/usr/bin/env node
// security.js connects kafkajs 2.2.4 to a SASL_SSL listener, for
// test/compat/security_test.go. The argument is a JSON spec:
//   {broker, ca, mechanism, user, password, action, topic, group}
// mechanism is kafkajs's name (plain, scram-sha-256, scram-sha-512); action
// is "produce" (send one message to topic) or "roundtrip" (send one, then
// read it back in consumer group `group`). It prints one JSON line:
//   {"result": "ok"} or {"result": ERROR_TYPE, "error": message}
// where ERROR_TYPE is the Kafka error kafkajs reports (e.g.
// TOPIC_AUTHORIZATION_FAILED) or SASL_AUTHENTICATION_FAILED for a failed
// login. It exits by itself after 15 seconds.

'use strict'

const fs = require('fs')
const { Kafka, logLevel, Partitioners } = require('kafkajs')

const spec = JSON.parse(process.argv[2])
const done = (obj) => { console.log(JSON.stringify(obj)); process.exit(0) }
setTimeout(() => done({ result: 'TIMEOUT' }), 15000).unref()

const kafka = new Kafka({
  clientId: 'courier-security-test',
  brokers: [spec.broker],
  ssl: { ca: [fs.readFileSync(spec.ca, 'utf8')] },
  sasl: { mechanism: spec.mechanism, username: spec.user, password: spec.password },
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
})

function errorType (e) {
  if (e.name === 'KafkaJSSASLAuthenticationError') return 'SASL_AUTHENTICATION_FAILED'
  if (e.type) return e.type
  if (e.originalError) return errorType(e.originalError)
  if (e.cause) return errorType(e.cause)
  return e.name || 'ERROR'
}

async function main () {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const value = 'hello-' + Date.now()
  await producer.send({ topic: spec.topic, acks: -1, messages: [{ value }] })
  await producer.disconnect()
  if (spec.action === 'produce') return done({ result: 'ok' })

  const consumer = kafka.consumer({ groupId: spec.group, retry: { retries: 0 } })
  await consumer.connect()
  await consumer.subscribe({ topic: spec.topic, fromBeginning: true })
  await new Promise((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (ev) => reject(ev.payload.error))
    consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value.toString() === value) resolve()
      },
    }).catch(reject)
  })
  await consumer.disconnect()
  done({ result: 'ok' })
}

main().catch((e) => done({ result: errorType(e), error: String(e && e.message) }))
