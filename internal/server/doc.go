// Package server is Courier's network front end: it accepts TCP connections,
// reads size-prefixed Kafka request frames, decodes each with kmsg, hands the
// request to a Handler and writes the responses back in request order.
//
// What it promises:
//   - Frames larger than Config.MaxRequestBytes, truncated or undecodable
//     frames, unknown API keys and unadvertised versions never reach the
//     handler. Unadvertised versions of ApiVersions get UNSUPPORTED_VERSION as
//     Kafka does; anything else malformed closes only that connection.
//   - Requests on one connection are handled one after another, in order (so
//     a producer's batches are appended in the order sent), while each
//     request's slow part (an fsync, a fetch long-poll) runs on the
//     connection's writer and overlaps the handling of the next request.
//     Responses leave in request order.
//   - Shutdown stops accepting, stops reading new requests, answers the ones
//     in flight and then closes every connection.
package server
