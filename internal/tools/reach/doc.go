// Package reach tells a Kafka client whether it can reach its cluster at
// all, so that no tool waits in silence on a cluster that is not there.
//
// Two parts, one for each kind of program:
//   - [Check] and [Wait], for commands that do one job and exit (courier
//     produce, consume, topic, group, acl, user, bench): before the client
//     is built, every seed broker is dialed over TCP within a deadline. If
//     none accepts, the command fails at once with one line naming each
//     address and its dial error ([Error]), or, when the user asked to
//     wait, retries until one accepts.
//   - [Monitor], for services that must keep retrying (courier sink): a
//     franz-go hook that watches every connection the client opens and
//     reports, at a bounded rate, while none succeeds, and once when one
//     succeeds again.
//
// Promises:
//   - A cluster is unreachable only when no seed address accepted a TCP
//     connection: a broker that accepts but answers slowly is reachable,
//     and the client's own timeouts deal with it. Nothing here sends a
//     Kafka request, so TLS and SASL settings play no part in the check;
//     their failures come from the client, with its errors.
//   - Every dial ends by the deadline or the caller's context, and every
//     goroutine started here has ended before the call that started it
//     returns.
package reach
