import Logging
import NIOCore
import Testing

@testable import HerdKit

private struct Unsupported: Error {}

/// A transport that is only ever named, never used.
private struct DummyTransport: Transport {
    var eventLoopGroup: any EventLoopGroup { fatalError("DummyTransport is only named, never used") }

    func listen(on endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup)
        -> EventLoopFuture<any Channel>
    {
        eventLoop.makeFailedFuture(Unsupported())
    }

    func dial(_ endpoint: Endpoint, eventLoop: any EventLoop, setup: ConnectionSetup) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(Unsupported())
    }
}

private struct DummyProvider: PlaceProvider {
    func nearbyPlaces(_ query: PlaceQuery) async throws -> PlacesResponse { PlacesResponse(results: []) }
}

private func registry() -> HerdRegistry {
    var registry = HerdRegistry.core
    registry.registerTransport("tcp") { _, _ in DummyTransport() }
    registry.registerProvider("fixture") { _ in DummyProvider() }
    return registry
}

private func component(_ name: String, _ keyPath: String) -> HerdConfig.Component {
    HerdConfig.Component(
        name: name, options: ConfigOptions(keyPath: keyPath, file: "<built-in default herd>", baseDirectory: ""))
}

@Suite("Registry")
struct RegistryTests {
    @Test func theDefaultHerdIsValid() throws {
        try registry().validate(HerdConfig.defaultHerd())
    }

    @Test func coreRegistersTheFiveStages() {
        #expect(HerdRegistry.core.stages.keys.sorted() == ["dedupe", "flood", "parse", "respond", "store"])
        #expect(HerdRegistry.core.providers.isEmpty)
        #expect(HerdRegistry.core.transports.isEmpty)
    }

    @Test func anEmptyRegistryRefusesTheDefaultHerd() throws {
        let error = try #require(throws: ConfigError.self) { try HerdRegistry().validate(HerdConfig.defaultHerd()) }
        #expect(error.key == "transport.clients")
    }

    @Test func anUnknownClientTransport() throws {
        var config = HerdConfig.defaultHerd()
        config.clientTransport = component("carrier-pigeon", "transport.clients.options")
        let error = try #require(throws: ConfigError.self) { try registry().validate(config) }
        #expect(error.file == "<built-in default herd>")
        #expect(error.key == "transport.clients")
        #expect(error.reason == "unknown transport 'carrier-pigeon'; registered: tcp")
    }

    @Test func anUnknownPeerTransport() throws {
        var config = HerdConfig.defaultHerd()
        config.peerTransport = component("quic", "transport.peers.options")
        let error = try #require(throws: ConfigError.self) { try registry().validate(config) }
        #expect(error.key == "transport.peers")
        #expect(error.reason.contains("unknown transport 'quic'"))
    }

    @Test func anUnknownProvider() throws {
        var config = HerdConfig.defaultHerd()
        config.provider = component("google", "provider.options")
        let error = try #require(throws: ConfigError.self) { try registry().validate(config) }
        #expect(error.key == "provider")
        #expect(error.reason == "unknown provider 'google'; registered: fixture")
        #expect(
            error.description == "<built-in default herd>: provider: unknown provider 'google'; registered: fixture")
    }

    @Test func anUnknownStage() throws {
        var config = HerdConfig.defaultHerd()
        config.pipeline[2] = component("sparkle", "pipeline[2].options")
        let error = try #require(throws: ConfigError.self) { try registry().validate(config) }
        #expect(error.key == "pipeline[2]")
        #expect(error.reason == "unknown stage 'sparkle'; registered: dedupe, flood, parse, respond, store")
    }

    @Test(arguments: ["parse", "respond"])
    func aPipelineMissingARequiredStage(missing: String) throws {
        var config = HerdConfig.defaultHerd()
        config.pipeline.removeAll { $0.name == missing }
        let error = try #require(throws: ConfigError.self) { try registry().validate(config) }
        #expect(error.key == "pipeline")
        #expect(error.reason == "must include '\(missing)', or clients get no answers")
    }

    @Test func aCustomStageCanBeRegisteredAndValidated() throws {
        var registry = registry()
        registry.registerStage("sparkle") { _ in DedupeStage() }
        var config = HerdConfig.defaultHerd()
        config.pipeline.insert(component("sparkle", "pipeline[1].options"), at: 1)
        try registry.validate(config)
    }

    @Test func factoriesBuildTheNamedParts() throws {
        let config = HerdConfig.defaultHerd()
        let context = HerdRegistry.Context(
            options: config.provider.options, serverName: "Alford", config: config, logger: Logger.quiet)
        let stages = try config.pipeline.map { try registry().makeStage($0, context: context) }
        #expect(
            stages.map { String(describing: type(of: $0)) } == [
                "ParseStage", "DedupeStage", "StoreStage", "FloodStage", "RespondStage",
            ])
        #expect(try registry().makeProvider(context: context) is DummyProvider)
        #expect(try registry().makeTransport(config.peerTransport, kind: .peers, context: context) is DummyTransport)
    }

    @Test func factoriesRefuseUnknownNames() throws {
        var config = HerdConfig.defaultHerd()
        config.provider = component("google", "provider.options")
        let context = HerdRegistry.Context(
            options: config.provider.options, serverName: "Alford", config: config, logger: Logger.quiet)
        #expect(throws: ConfigError.self) { try registry().makeStage(component("sparkle", "p"), context: context) }
        #expect(throws: ConfigError.self) { try registry().makeProvider(context: context) }
        #expect(throws: ConfigError.self) {
            try registry().makeTransport(component("quic", "t"), kind: .clients, context: context)
        }
    }
}
