// Package webconsole is Courier Console: a web console for any Kafka cluster,
// served by `courier broker` (--console-addr) and by `courier console
// --brokers ...`. It is a Kafka client like the other tools: every page and
// every API call is answered with franz-go requests made as the signed-in
// user (a SASL session per user when the cluster has SASL), so the cluster's
// ACLs decide what each user sees and may do.
//
// Layout:
//   - server.go: Config, the HTTP server, the routes of the pages and the API;
//   - kafka.go: how a session reaches the cluster (Access, KafkaSession);
//   - api.go: the JSON API's plumbing (calls, errors in REST Proxy's shape);
//   - session.go, login.go, basic.go, csrf.go, ratelimit.go, admin.go,
//     audit.go: sessions, sign-in (the cluster checks the password), HTTP
//     Basic auth for scripts, CSRF protection, sign-in rate limits, who is
//     an admin (the cluster says), the audit log;
//   - rest_*.go: Confluent REST Proxy v3 endpoints (/v3/clusters/...);
//   - api_*.go: the console's own endpoints (/api/...): messages, lag
//     history, offset resets, ACLs, users, overview;
//   - lag.go, laghistory.go, laghistory_file.go, lagsampler.go: consumer
//     group lag in time (the oldest unconsumed record, read), and the lag
//     history (its sampler, its store in memory and in a checksummed file);
//   - web/: the pages, embedded (no build step, no CDN).
//
// Promises:
//   - every value that comes from Kafka (names, keys, values, headers) reaches
//     the page as data, never as markup: the pages build the DOM with
//     textContent only;
//   - every request that changes something is checked against CSRF and, when
//     it succeeds or fails, written to the audit log with the user's name;
//   - no password or session token is logged or shown.
package webconsole
