#!/usr/bin/env node
// txn.js runs the exactly-once workload of internal/testkit/testtxn with
// kafkajs 2.2.4's transactional producer, for
// test/compat/kafkajs_txn_test.go: first one transaction written and
// aborted on purpose (values prefixed "ABORTED:"), then a group consumer
// (read_committed) whose every batch is transformed ("out:" + value) and
// produced to the output topic in a transaction that also commits the
// batch's offsets (transaction.sendOffsets), until every input record is
// done.
//
// Spec (stdin): { "brokers": [...], "in": "t", "out": "t", "group": "g",
//   "transactionalId": "id", "records": N, "partitions": P }
// Output (stdout): { "ok": true, "transactions": n, "transformed": N } or
//   { "ok": false, "error": "...", "errorType": "..." }.
// Exit status: 0 when the output was written, 1 on a failure, 2 when the
// script's own deadline passes.

'use strict'

const { exitAfter, newKafka, readStdin, errorType } = require('./common')

const deadline = exitAfter('txn.js', 50000)

async function main() {
  const spec = await readStdin()
  const kafka = newKafka('courier-txn', spec.brokers)
  const producer = kafka.producer({ transactionalId: spec.transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()

  // The aborted transaction: one record per output partition.
  const doomed = await producer.transaction()
  const messages = []
  for (let p = 0; p < spec.partitions; p++) messages.push({ partition: p, value: `ABORTED:out:doomed-${p}` })
  await doomed.send({ topic: spec.out, messages })
  await doomed.abort()

  const consumer = kafka.consumer({ groupId: spec.group, readUncommitted: false })
  await consumer.connect()
  await consumer.subscribe({ topic: spec.in, fromBeginning: true })
  let transformed = 0
  let transactions = 1
  let finish
  const finished = new Promise((resolve, reject) => { finish = { resolve, reject } })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (batch.messages.length === 0) return
      const txn = await producer.transaction()
      try {
        await txn.send({
          topic: spec.out,
          messages: batch.messages.map(m => ({ partition: batch.partition, key: m.key, value: 'out:' + m.value.toString() })),
        })
        const next = (BigInt(batch.lastOffset()) + 1n).toString()
        await txn.sendOffsets({
          consumerGroupId: spec.group,
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
        })
        await txn.commit()
      } catch (e) {
        await txn.abort().catch(() => {})
        finish.reject(e)
        throw e
      }
      transactions++
      for (const m of batch.messages) resolveOffset(m.offset)
      transformed += batch.messages.length
      if (transformed >= spec.records) finish.resolve()
    },
  })
  await finished
  await consumer.disconnect()
  await producer.disconnect()
  return { transactions, transformed }
}

main()
  .then(res => {
    clearTimeout(deadline)
    process.stdout.write(JSON.stringify({ ok: true, ...res }) + '\n')
    process.exit(0)
  })
  .catch(e => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e), errorType: errorType(e) }) + '\n')
    process.exit(1)
  })
