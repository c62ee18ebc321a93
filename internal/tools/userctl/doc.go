// Package userctl administers SASL/SCRAM users: through any
// Kafka-compatible cluster (AlterUserScramCredentials and
// DescribeUserScramCredentials, via kadm: ClusterUsers), or in a stopped
// broker's user store (OfflineUsers), which is how the first admin user is
// made before the first start (the offline bootstrap kafka-storage
// --add-scram does).
//
// Promises:
//   - A password is salted and hashed here (PBKDF2, RFC 5802, with the
//     broker's own users package), and only the salted form leaves: to the
//     cluster, the salted password; to the store, salt, iterations and
//     keys. Nothing here prints or logs a password.
//   - Passwords come from a terminal prompt or the first line of the
//     input (ReadPassword), never from a flag.
//   - It is the one client tool that knows a broker's storage format, for
//     the offline store alone; it is kept apart from package ctl so that
//     the pipeline, which uses ctl, stays off broker packages.
package userctl
