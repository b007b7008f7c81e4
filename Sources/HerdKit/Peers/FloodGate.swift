import NIOCore

/// The gate a flooded update's reply waits at: open at sequence n once every neighbour that is awaited
/// has acknowledged the updates up to n (see ``PeerLinks``). Sendable so replies can carry it; every call
/// is made on the server's event loop, which the box checks.
final class FloodGate: ReplyGate {
    let links: NIOLoopBoundBox<PeerLinks?>

    init(eventLoop: any EventLoop) {
        self.links = .makeEmptyBox(valueType: PeerLinks.self, eventLoop: eventLoop)
    }

    func isOpen(at mark: UInt64) -> Bool {
        links.value?.isOpen(at: mark) ?? true
    }

    func whenOpen(at mark: UInt64, _ release: @escaping () -> Void) {
        guard let links = links.value else { return release() }
        links.whenOpen(at: mark, release)
    }
}
