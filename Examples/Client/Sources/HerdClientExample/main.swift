import HerdKit
import PlaceLookup
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
let lookup = PlaceLookup(reportTo: HerdClient(endpoint: reportTo), askAt: HerdClient(endpoint: askAt))
do {
    let answer = try await lookup.run(
        client: "example.client", latitude: 34.068930, longitude: -118.445127, time: time, radiusKilometres: 1,
        bound: 3)
    print("reported to \(reportTo): \(answer.atLine)")
    print("places near example.client from \(askAt) (\(answer.status)):")
    for name in answer.names { print("  \(name)") }
} catch {
    print("\(error); is the herd running and connected?")
    exit(1)
}
