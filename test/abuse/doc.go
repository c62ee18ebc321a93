// Package abuse holds Courier's abuse tests: a broker started in-process on
// a free loopback port (package testbroker) is hit with misbehaving clients
// while a well-behaved franz-go producer and consumer keep working, and the
// broker's heap stays under a stated bound.
//
//   - Idle connections: 1,000 connections that never send a byte, under a
//     per-IP limit a little above that; more connections are refused.
//   - Slow loris: connections that declare a large frame, send part of it
//     and stall are cut off after the request read timeout, without the
//     broker allocating the declared size.
//   - Garbage: random bytes after a valid ApiVersions exchange close that
//     connection only.
//   - Produce flood: one client id producing as fast as it can under a
//     produce quota is throttled to it while another client id is not.
//   - Unauthenticated huge frames: 20 TLS connections to a SASL_SSL
//     listener declaring 99 MB frames are closed at the size prefix.
//   - Many large requests: 20 connections sending 16 MiB requests at once
//     stay within the queued-request budget, all answered.
//   - Huge fetches: three consumers fetching a 200 MiB topic with every
//     limit at 2^31-1 get responses capped at fetch.max.bytes, within the
//     fetch memory budget, while a producer's latency is measured.
//
// Every loop is bounded in count and time; the package runs in about 20s.
package abuse
