import HerdKit
import Transports

#if canImport(Glibc)
    import Glibc
#endif

// Reports a location to one server of a running herd, then asks another server for places nearby.
// Start the default herd first (`swift run herd up` in the repository root), then:
//   swift run HerdClientExample [REPORT_HOST:PORT] [QUERY_HOST:PORT]

let arguments = CommandLine.arguments.dropFirst()
let reportTo = Endpoint(arguments.first ?? "127.0.0.1:12000")
let askAt = Endpoint(arguments.dropFirst().first ?? "127.0.0.1:12002")
guard let reportTo, let askAt else {
    print("usage: HerdClientExample [REPORT_HOST:PORT] [QUERY_HOST:PORT]")
    exit(2)
}

let now = WallTime.now()
let time = ClientTime(isNegative: false, seconds: UInt64(now.seconds), nanoseconds: UInt32(now.nanoseconds))
let reply = try await HerdClient(endpoint: reportTo)
    .report(client: "example.client", latitude: 34.068930, longitude: -118.445127, time: time)
print("reported to \(reportTo): \(reply)", terminator: "")

// The update floods through the herd; a server a few hops away may need a moment to hear of it.
for _ in 0..<50 {
    let places = try await HerdClient(endpoint: askAt).places(near: "example.client", radiusKilometres: 1, bound: 3)
    if !places.hasPrefix("?") {
        print("places near example.client from \(askAt):\n\(places)", terminator: "")
        exit(0)
    }
    try await Task.sleep(for: .milliseconds(100))
}
print("\(askAt) has not heard of example.client; is the herd running and connected?")
exit(1)
