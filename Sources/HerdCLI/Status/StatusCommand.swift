import ArgumentParser
import Foundation
import HerdKit

/// `herd status`: asks every server of the config over its admin endpoint and shows the herd.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every server of a herd and its links, from their admin endpoints.",
        discussion: """
            Servers without an admin_port are shown as unknown; a server that does not answer is shown down.
            """)

    @OptionGroup var config: ConfigOption

    @Flag(help: "Refresh until interrupted.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 2

    @Option(help: "Seconds to wait for each server's answer.")
    var timeout: Double = 2

    func run() async throws {
        let herdConfig = try config.load()
        let fetcher = StatusFetcher(config: herdConfig, timeout: .milliseconds(Int(timeout * 1000)))
        repeat {
            let view = HerdStatusView(config: herdConfig, answers: await fetcher.fetchAll(), at: Date())
            if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            print(view.render(), terminator: "")
            fflush(nil)
            if watch { try await Task.sleep(for: .milliseconds(Int(interval * 1000))) }
        } while watch
    }
}
