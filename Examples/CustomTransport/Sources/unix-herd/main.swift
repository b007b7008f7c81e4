import HerdCLI
import HerdKit
import UnixSockets

// The whole herd command line, plus one transport: `unix`. Every command (up, serve, send, check, ...)
// works as in `herd`, and a config can now choose `transport: {clients: unix, peers: unix}`.
var registry = HerdRegistry.standard
UnixSocketTransport.register(in: &registry)
await HerdCLI.main(registry: registry)
