import Dispatch
import HerdKit
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Runs servers until SIGTERM or SIGINT, printing each server's addresses once it is bound. SIGHUP reopens
/// every log file (after logrotate moved them).
enum ServerRunner {
    static func run(_ servers: [HerdServer]) async throws {
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP)
        hangUp.setEventHandler {
            for server in servers { server.logger.notice("SIGHUP: reopening the log file") }
            for failure in LogFile.reopenAll() {
                for server in servers { server.logger.error("\(failure)") }
            }
            for server in servers { server.logger.notice("log file reopened after SIGHUP") }
        }
        hangUp.resume()
        defer { hangUp.cancel() }
        var logger = Logger(label: "herd")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(
                services: servers.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                for server in servers {
                    guard let bound = try? await server.waitUntilBound() else { continue }
                    print(
                        "\(server.name): clients \(bound.clients)  peers \(bound.peers)"
                            + (bound.admin.map { "  admin \($0)" } ?? ""))
                }
                print("logs in \(servers.first?.config.logDirectory ?? "?"); stop with Ctrl-C or SIGTERM")
                fflush(nil)
            }
            try await tasks.waitForAll()
        }
    }
}
