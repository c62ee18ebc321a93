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
//   - One server serves several listeners (ServeListener), each PLAINTEXT,
//     SSL, SASL_PLAINTEXT or SASL_SSL. TLS handshakes run on the
//     connection's goroutine within Config.RequestReadTimeout; on SSL a
//     verified client certificate's subject (RFC 2253) is the principal.
//     On SASL listeners nothing but ApiVersions, SaslHandshake and
//     SaslAuthenticate is handled before authentication (anything else
//     closes the connection), a failed exchange is answered and then the
//     connection closed, and an expired session (KIP-368) closes it at the
//     next other request.
//   - A connection's cost is bounded: connections over the total or
//     per-IP limit are closed on accept without blocking it; idle
//     connections, frames that stall once started and slow authentications
//     time out; request bytes in flight per connection are capped; a large
//     frame is read in pooled chunks as its bytes arrive, never allocated
//     from the declared size alone. A client over its quota is answered at
//     once with a throttle time and its connection is not read again until
//     it has passed.
//   - Memory is bounded across connections: before SASL authentication a
//     frame above Config.SASLMaxReceiveBytes (512 KiB) closes the
//     connection from its size alone; all connections together hold at
//     most Config.MaxQueuedRequestBytes (plus the one frame in the
//     overflow lane) of requests read but not answered: bytes are taken
//     from the budget as they arrive, before they are read, and a reader
//     that does not fit waits, reading and allocating nothing; a
//     client that stops reading its responses is cut off after
//     Config.WriteTimeout, so it cannot pin what they hold. A fetch
//     response's large record fields are written from the buffers they
//     were read into, never copied into an encoding buffer.
//   - A panic while serving a request (the handler's ordered part, its
//     Reply, encoding the response, an OnDone function) is recovered: it is
//     logged with its stack, counted (Observer.RequestPanicked), and closes
//     only that connection; requests queued behind it still give back what
//     they hold.
package server
