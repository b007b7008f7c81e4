import HerdKit

/// A pipeline stage that writes every client report to an audit log before the server acts on it: a report
/// that cannot be audited is refused (`? ...`) and neither stored nor flooded.
///
/// Writing the log means waiting (an actor, a file), and a stage's `handle` runs on the server's event loop,
/// which must never block. So this stage returns ``Response/suspending(on:_:)``: its body runs in a task off
/// the loop, waits for the log, then goes on with the rest of the pipeline through ``Next/resume(_:)``, which
/// runs those stages back on the loop. The connection keeps its replies in order meanwhile: the client's
/// later lines wait until this one is answered, so a pipelined `WHATSAT` after the report sees it stored.
///
/// Everything else (WHATSAT, peer updates, invalid lines) is passed on at once, synchronously: only a line
/// that has to wait pays for a task.
///
///     pipeline: [parse, audit, dedupe, store, flood, respond]
public struct AuditStage: MessageHandler {
    public let log: any AuditSink

    public init(log: any AuditSink) {
        self.log = log
    }

    // `envelope` without `consuming`: the task below captures it, and a captured parameter must be a constant.
    public func handle(_ envelope: Envelope, context: HandlerContext, next: Next) -> Response {
        guard case .client(let address) = envelope.origin, case .iamat? = envelope.message else {
            return next(envelope)
        }
        let entry = AuditEntry(
            server: context.serverName, client: address, receivedAt: envelope.receivedAt,
            line: String(decoding: envelope.line.readableBytesView, as: UTF8.self))
        let log = log
        return .suspending(on: context.eventLoop) {
            // Off the event loop: waiting here holds up this connection only, never the server.
            try await log.append(entry)
            return try await next.resume(envelope)
        }
    }
}

extension AuditStage {
    /// Registers the stage as `audit`. Option `file`: the audit log, relative to the config file; default
    /// `<log_dir>/<server>.audit`. Each server gets a log of its own.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerStage("audit") { context in
            try context.options.allowOnly(["file"])
            let path =
                try context.options.path("file")
                ?? ConfigPaths.resolve("\(context.serverName).audit", against: context.config.logDirectory)
            do {
                return AuditStage(log: try AuditLog(path: path))
            } catch {
                throw context.options.error("file", "\(error)")
            }
        }
    }
}
