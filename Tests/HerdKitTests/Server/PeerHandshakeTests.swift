import Foundation
import Testing

@testable import HerdKit

/// The shared-secret handshake of a peer link, both halves as state machines with no socket: a dialler and
/// a listener that hold the secret link; anyone else is refused, either way round.
@Suite("Peer link handshake")
struct PeerHandshakeTests {
    private let secret = PeerSecret(text: "correct horse battery staple")!
    private let other = PeerSecret(text: "a different secret, long enough")!

    /// Runs the handshake between Alford dialling and Parker listening; the listener's last outcome and the
    /// dialler's last action.
    private func handshake(dialler: PeerKeys?, listener: PeerKeys?) -> (InboundLink.Outcome, OutboundLink.Action?) {
        var outbound = OutboundLink(neighbour: "Parker", serverName: "Alford", keys: dialler)
        var inbound = InboundLink(serverName: "Parker", keys: listener)
        var line: PeerMessage = outbound.hello()
        while true {
            let outcome = inbound.receive(line, epoch: 42) { _ in nil }
            let reply: PeerMessage
            switch outcome {
            case .refuse: return (outcome, nil)
            case .challenge(let message), .accept(_, let message): reply = message
            }
            let action = outbound.receive(reply)
            guard case .send(let next) = action else { return (outcome, action) }
            line = next
        }
    }

    @Test func twoServersWithTheSameSecretLinkAndEachProvesItself() {
        let (outcome, action) = handshake(dialler: PeerKeys(current: secret), listener: PeerKeys(current: secret))
        guard case .accept(let neighbour, .epoch(42, let proof?)) = outcome else {
            Issue.record("listener: \(outcome)")
            return
        }
        #expect(neighbour == "Alford")
        #expect(proof.count == 64)
        #expect(action == .resume(neighbourEpoch: 42))
    }

    @Test func aDiallerWithAnotherSecretIsRefused() {
        let (outcome, _) = handshake(dialler: PeerKeys(current: other), listener: PeerKeys(current: secret))
        #expect(outcome == .refuse("Alford's proof does not match the peer secret (or the previous one)"))
    }

    @Test func aDiallerWithoutASecretIsRefusedAndSoIsAListenerWithout() {
        let (refusedHello, _) = handshake(dialler: nil, listener: PeerKeys(current: secret))
        guard case .refuse(let reason) = refusedHello else {
            Issue.record("accepted a hello with no nonce: \(refusedHello)")
            return
        }
        #expect(reason.contains("did not offer the shared-secret handshake"))
        let (refusedNonce, _) = handshake(dialler: PeerKeys(current: secret), listener: nil)
        guard case .refuse(let other) = refusedNonce else {
            Issue.record("a listener without a secret accepted a challenge hello: \(refusedNonce)")
            return
        }
        #expect(other.contains("no peer secret configured"))
    }

    @Test func aListenerThatCannotProveTheSecretIsNotSentAnything() {
        var outbound = OutboundLink(neighbour: "Parker", serverName: "Alford", keys: PeerKeys(current: secret))
        _ = outbound.hello(nonce: String(repeating: "a", count: 64))
        guard case .send(.proof) = outbound.receive(.challenge(nonce: String(repeating: "b", count: 64))) else {
            Issue.record("no proof sent")
            return
        }
        let forged = PeerProof.listener(
            other, dialler: "Alford", listener: "Parker", diallerNonce: String(repeating: "a", count: 64),
            listenerNonce: String(repeating: "b", count: 64), epoch: 42)
        #expect(outbound.receive(.epoch(42, proof: forged)) == .fail("Parker did not prove it holds the peer secret"))
        #expect(!outbound.isStreaming)
        var unproven = OutboundLink(neighbour: "Parker", serverName: "Alford", keys: PeerKeys(current: secret))
        _ = unproven.hello()
        guard case .fail = unproven.receive(.epoch(42)) else {
            Issue.record("an EPOCH with no challenge was accepted by a dialler with a secret")
            return
        }
    }

    @Test func whileTheSecretChangesBothTheNewAndThePreviousOneLink() {
        let rotated = PeerKeys(current: other, previous: secret)
        for (dialler, listener) in [
            (rotated, PeerKeys(current: secret)), (PeerKeys(current: secret), rotated), (rotated, rotated),
        ] {
            let (outcome, action) = handshake(dialler: dialler, listener: listener)
            guard case .accept = outcome else {
                Issue.record("\(dialler) to \(listener): \(outcome)")
                continue
            }
            #expect(action == .resume(neighbourEpoch: 42))
        }
        let (refused, _) = handshake(dialler: PeerKeys(current: other), listener: PeerKeys(current: secret))
        guard case .refuse = refused else {
            Issue.record("the new secret alone was accepted by a server that knows only the old one")
            return
        }
    }

    @Test func aProofIsBoundToItsNoncesSoARecordedOneCannotBeReplayed() {
        var listener = InboundLink(serverName: "Parker", keys: PeerKeys(current: secret)) {
            String(repeating: "c", count: 64)
        }
        let diallerNonce = String(repeating: "d", count: 64)
        // The proof of an earlier handshake, with another listener nonce.
        let recorded = PeerProof.dialler(
            secret, dialler: "Alford", listener: "Parker", diallerNonce: diallerNonce,
            listenerNonce: String(repeating: "e", count: 64))
        _ = listener.receive(.hello(server: "Alford", nonce: diallerNonce), epoch: 1) { _ in nil }
        guard case .refuse = listener.receive(.proof([recorded]), epoch: 1, refusal: { _ in nil }) else {
            Issue.record("a replayed proof was accepted")
            return
        }
    }

    @Test func theProofIsHMACSHA256AsOpenSSLComputesIt() throws {
        let proof = PeerProof.dialler(
            secret, dialler: "Alford", listener: "Parker", diallerNonce: "n1", listenerNonce: "n2")
        let message = "herd-peer-link-v1\ndialler\nAlford\nParker\nn1\nn2\n"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "dgst", "-sha256", "-hmac", "correct horse battery staple", "-r"]
        let input = Pipe()
        let output = Pipe()
        openssl.standardInput = input
        openssl.standardOutput = output
        try openssl.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        openssl.waitUntilExit()
        #expect(text.split(separator: " ").first.map(String.init) == proof)
    }

    @Test func aSecretIsTrimmedAndMustBeLongEnoughAndNeverPrinted() {
        #expect(PeerSecret(text: "0123456789abcdef\n")?.text == "0123456789abcdef")
        #expect(PeerSecret(text: " short \n") == nil)
        #expect(!"\(secret)".contains("horse"))
        #expect(PeerSecret.random() != PeerSecret.random())
    }
}
