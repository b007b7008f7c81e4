import ArgumentParser
import HerdKit
import Transports

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send command lines to a server's client endpoint and print the replies.",
        discussion:
            "Example: herd send 127.0.0.1:12000 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503'")

    @Argument(help: "The client endpoint, HOST:PORT or [IPv6]:PORT.")
    var endpoint: String

    @Argument(help: "Lines to send, pipelined on one connection. With none, lines are read from standard input.")
    var lines: [String] = []

    func run() async throws {
        guard let target = Endpoint(endpoint) else {
            throw ValidationError("'\(endpoint)' is not HOST:PORT")
        }
        var toSend = lines
        if toSend.isEmpty {
            while let line = readLine(strippingNewline: true) { toSend.append(line) }
        }
        let client = HerdClient(endpoint: target)
        do {
            print(try await client.exchange(toSend), terminator: "")
        } catch {
            throw CommandFailure("cannot talk to \(target): \(error)")
        }
    }
}
