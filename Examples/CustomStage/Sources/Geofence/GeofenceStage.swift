import HerdKit

/// A pipeline stage that watches client reports against named areas: it logs each client that enters an
/// area and, with `reject_outside`, refuses reports from outside every area.
///
/// Place it after `parse` (it needs the parsed IAMAT) and before `store` (it compares the report with the
/// client's stored location, the one before this report):
///
///     pipeline: [parse, {name: geofence, options: {areas: [...]}}, dedupe, store, flood, respond]
///
/// It never waits, so it is written in the synchronous form every stage starts with: it runs on the server's
/// event loop, reads the store directly (no locks: the store lives on that loop too) and either passes the
/// line on with `next(envelope)` or ends the chain with `.reply(...)`.
public struct GeofenceStage: MessageHandler {
    public var areas: [GeofenceArea]
    /// Answer reports from outside every area with `? ...` instead of storing and flooding them.
    public var rejectOutside: Bool

    public init(areas: [GeofenceArea], rejectOutside: Bool = false) {
        self.areas = areas
        self.rejectOutside = rejectOutside
    }

    public func handle(_ envelope: consuming Envelope, context: HandlerContext, next: Next) -> Response {
        // Only client reports: peer updates were already fenced by the server that took them.
        guard case .client = envelope.origin, case .iamat(let report)? = envelope.message else {
            return next(envelope)
        }
        let inside = areas.filter { $0.contains(report.coordinates) }
        if inside.isEmpty && rejectOutside {
            context.logger.notice("geofence: \(report.clientID) reported outside every area; refused")
            return .reply(.invalid(envelope.line.readableBytesView))
        }
        let previous = context.store.record(for: report.clientID)
        // A stale report (not newer than the stored one) moves nobody.
        if previous.map({ $0.time < report.time }) ?? true {
            for area in inside where !(previous.map { area.contains($0.coordinates) } ?? false) {
                context.logger.notice("geofence: \(report.clientID) entered \(area.name)")
            }
        }
        return next(envelope)
    }
}

extension GeofenceStage {
    /// Reads the stage's options: `areas` (a non-empty list, see ``GeofenceArea/init(options:)``) and
    /// `reject_outside` (true or false, default false). Unknown keys are errors, so a typo never passes.
    public init(options: ConfigOptions) throws(ConfigError) {
        try options.allowOnly(["areas", "reject_outside"])
        guard let items = try options.optionsList("areas"), !items.isEmpty else {
            throw options.error("areas", "missing; list at least one {name, latitude, longitude, radius_km}")
        }
        var areas: [GeofenceArea] = []
        for item in items {
            let area = try GeofenceArea(options: item)
            if areas.contains(where: { $0.name == area.name }) {
                throw item.error("name", "duplicate area name '\(area.name)'")
            }
            areas.append(area)
        }
        self.init(areas: areas, rejectOutside: try options.bool("reject_outside") ?? false)
    }

    /// Registers the stage as `geofence`, the name the config's `pipeline` list uses.
    public static func register(in registry: inout HerdRegistry) {
        registry.registerStage("geofence") { context in
            try GeofenceStage(options: context.options)
        }
    }
}
