// Package acl owns Courier's access control lists, with Kafka's semantics
// (kafka.security.authorizer.AclAuthorizer and the KRaft
// StandardAuthorizer): the bindings (who may or may not do what on which
// resources, from which hosts), their durable store DIR/acls.json, and the
// Authorizer that answers, for every request a broker serves, whether a
// principal may do an operation on a resource.
//
// Promises:
//   - Super users are always allowed.
//   - A matching DENY wins over any ALLOW; without a matching ALLOW the
//     answer is no (Kafka's allow.everyone.if.no.acl.found=false).
//   - A binding matches a principal exactly or as User:*, a host exactly or
//     as *, and a resource by literal name, by the literal wildcard *, or by
//     prefix (prefixed bindings).
//   - ALL implies every operation; READ, WRITE, DELETE and ALTER imply
//     DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS.
//   - Changes are durable before they are acknowledged (temporary file,
//     fsync, rename, directory fsync) and visible to the next Authorize
//     call. Authorize takes no lock: it reads an immutable, indexed
//     snapshot behind an atomic pointer.
package acl
