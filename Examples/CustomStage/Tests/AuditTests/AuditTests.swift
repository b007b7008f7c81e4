import Audit
import HerdCLI
import HerdKit
import HerdTesting
import Testing

@Suite("The audit stage, which suspends, in a running server")
struct AuditTests {
    static let yaml = """
        servers: [{name: Alford, client_port: 0, peer_port: 0}]
        pipeline: [parse, audit, dedupe, store, flood, respond]
        """

    @Test("a client's report is in the audit file by the time it is answered; queries are not audited")
    func auditFile() async throws {
        var registry = HerdRegistry.standard
        AuditStage.register(in: &registry)
        try await withTestHerd(yaml: Self.yaml, registry: registry) { herd in
            let atLine = try await herd.report("kiwi", at: "Alford")
            try Wire.expectPlacesReply(try await herd.whatsat("kiwi", at: "Alford"), atLine: atLine, bound: 5)
            let entries = LogFiles.text(atPath: herd.directory + "/logs/Alford.audit").split(separator: "\n")
            #expect(entries.count == 1, "audit file: \(entries)")
            let entry = try #require(entries.first)
            #expect(entry.contains(" Alford 127.0.0.1:"))
            #expect(entry.hasSuffix(" " + Wire.iamat("kiwi")))
        }
    }

    @Test("while the stage waits, the connection's later lines wait too: pipelined replies come in order")
    func pipelined() async throws {
        let audit = HeldAudit()
        var registry = HerdRegistry.standard
        registry.registerStage("audit") { _ in AuditStage(log: audit) }
        try await withTestHerd(yaml: Self.yaml, registry: registry) { herd in
            let newer = Wire.iamat("kiwi", time: "1621464828.5")
            // One write: a report, a line the parse stage answers at once, a query, a newer report.
            let lines = [Wire.iamat("kiwi"), "HELLO", "WHATSAT kiwi 1 1", newer]
            async let replies = herd.send(lines.map { $0 + "\n" }.joined(), to: "Alford")
            try await eventually("the first report to wait in the audit") { await audit.entries.count == 1 }
            await audit.release()
            let text = try await replies

            let first = try Wire.expectATReply(
                String(try #require(text.split(separator: "\n").first)) + "\n", server: "Alford", client: "kiwi")
            // `? HELLO` needed no waiting, yet it follows the report's reply; the query sees the report stored.
            #expect(text.hasPrefix("\(first)\n? HELLO\n\(first)\n{"), "replies:\n\(text)")
            let last = try #require(text.split(separator: "\n").last)
            let second = try Wire.expectATReply(
                String(last) + "\n", server: "Alford", client: "kiwi", time: "1621464828.5")
            #expect(text.hasSuffix("}\n\n\(second)\n"), "replies:\n\(text)")
            #expect(await audit.entries.map(\.line) == [Wire.iamat("kiwi"), newer])
        }
    }
}

/// An audit log in memory that holds every report until the test releases it, so the test knows the stage
/// is suspended while the connection's later lines are already in.
actor HeldAudit: AuditSink {
    private(set) var entries: [AuditEntry] = []
    private var released = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func append(_ entry: AuditEntry) async {
        entries.append(entry)
        guard !released else { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        released = true
        for continuation in waiting { continuation.resume() }
        waiting = []
    }
}
