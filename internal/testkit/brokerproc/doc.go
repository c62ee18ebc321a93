// Package brokerproc runs the real courier binary as a child process, for
// tests that must see the broker exactly as users do: compatibility tests
// driving it with third-party clients, and crash tests that SIGKILL it.
//
// It owns three jobs: building the binary once per test process (Build),
// finding free loopback ports (FreeAddr), and the life of one broker process
// on a data directory (Start, Broker.Stop, Broker.Kill, Broker.Restart).
//
// What it promises:
//   - Every listener it asks for is on 127.0.0.1, on a port the kernel
//     reported free; nothing binds a wildcard address.
//   - Every wait is bounded: the build, readiness and shutdown each have a
//     timeout, and a process that outlives its timeout is killed.
//   - A restarted broker keeps its Kafka and HTTP addresses and its data
//     directory, so clients reconnect to the same place, as after a real
//     crash and restart.
//   - Once Stop or Kill returns, the process has exited and been reaped.
//     On Linux the child also gets SIGKILL if the test process dies first,
//     so no broker outlives a crashed test run.
package brokerproc
