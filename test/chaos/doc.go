// Package chaos holds Courier's chaos test: the real courier binary
// (package brokerproc) on a data directory inside a small tmpfs the test
// mounts itself, under every kind of load at once while faults strike.
//
// For COURIER_CHAOS_DURATION (90s by default) these run concurrently:
//   - a producer (franz-go, acks=all, idempotent) writing uniquely numbered
//     records to three topics, recording where each acknowledged one went;
//   - a consumer group of two members that poll those topics and commit
//     what they read, recording each acknowledged commit;
//   - topic churn: short-lived topics created, written a little, deleted;
//   - faults, one after another, on a schedule drawn from a seed: SIGKILLs
//     of the broker, each followed by a restart (alternating --fsync always
//     and interval), and disk-full episodes (a filler file takes every free
//     byte of the tmpfs for a few seconds, sometimes with a SIGKILL while
//     the disk is full). After each episode the broker must take produce
//     and commit requests again by itself, without a restart.
//
// Afterwards the broker is stopped cleanly and started again, and the test
// checks what the issue asks of recovery: every acknowledged record is
// where it was acknowledged, with its content, and no record is stored
// twice; no acknowledged commit was rolled back; deleted topics stay
// deleted and live ones are there; recovery cut at most torn tails (no
// damaged region, no damaged journal record, no quarantine entry the test
// cannot explain); every restart succeeded; the broker's memory stayed
// bounded.
//
// Promises:
//   - The seed (COURIER_CHAOS_SEED, else the clock) is always logged and
//     replays the schedule of faults: their kinds, order, spacing and the
//     --fsync mode of each restart. The load's timing still varies.
//   - The tmpfs is unmounted at the end even when the test fails. If it
//     cannot be mounted (not root, no tmpfs), the test skips, unless
//     COURIER_REQUIRE_CHAOS=1 (scripts/test.sh sets it), when it fails.
//   - Every loop is bounded in count and time; every listener is on
//     127.0.0.1. Unacknowledged operations may fail and are retried or
//     forgotten; an acknowledged one that is lost fails the test.
package chaos
