import NIOCore

/// A connection's replies not yet written, in order. Replies go out in chunks: each chunk is everything a
/// connection replied in one event-loop pass that waits for the same thing, written with one write once
/// the pass is committed (its changes are in the journal) and its hold has opened. A reply is never split
/// across writes (PROTOCOL.md section 1), and never overtakes the one before it.
struct HeldReplies {
    struct Chunk {
        var bytes: ByteBuffer
        var hold: ReplyHold?
        /// The event-loop pass the replies were made in; they may go once that pass is committed.
        let pass: UInt64
        /// When its first reply was made.
        let since: NIODeadline
    }

    /// Chunks before the newest, oldest first.
    private var sealed = CircularBuffer<Chunk>()
    /// The newest chunk, kept apart so appending to it writes its buffer in place (an element of a
    /// collection would be copied out and back, and its buffer with it).
    private var open: Chunk?
    /// Bytes held, for the connection's limit on unsent output.
    private(set) var byteCount = 0

    var isEmpty: Bool { open == nil && sealed.isEmpty }

    mutating func append(_ reply: Reply, pass: UInt64, at now: NIODeadline, allocator: ByteBufferAllocator) {
        byteCount += reply.count
        if open != nil, open!.pass == pass {
            switch (open!.hold, reply.hold) {
            case (nil, nil):
                reply.write(to: &open!.bytes)
                return
            case (let held?, let hold):
                // After a held reply, this one waits anyway: it joins the chunk when it waits on the same gate.
                if hold == nil || hold!.gate === held.gate {
                    open!.hold = hold.map { held.combined(with: $0) } ?? held
                    reply.write(to: &open!.bytes)
                    return
                }
            case (nil, _?):
                break
            }
        }
        if let previous = open { sealed.append(previous) }
        var bytes = allocator.buffer(capacity: max(reply.count, 4096))
        reply.write(to: &bytes)
        open = Chunk(bytes: bytes, hold: reply.hold, pass: pass, since: now)
    }

    private var first: Chunk? { sealed.first ?? open }

    private mutating func removeFirst() -> Chunk {
        if sealed.isEmpty {
            defer { open = nil }
            return open!
        }
        return sealed.removeFirst()
    }

    /// The bytes of every chunk at the front that may go (made in a committed pass, hold open), and when
    /// the oldest of them was made. Nil if none.
    mutating func takeReady(committedPass: UInt64) -> (ByteBuffer, since: NIODeadline)? {
        var ready: ByteBuffer?
        var since = NIODeadline.distantFuture
        while let first, first.pass <= committedPass, first.hold?.isOpen ?? true {
            var chunk = removeFirst()
            byteCount -= chunk.bytes.readableBytes
            since = min(since, chunk.since)
            if ready == nil { ready = chunk.bytes } else { ready!.writeBuffer(&chunk.bytes) }
        }
        return ready.map { ($0, since) }
    }

    /// The hold the first chunk waits on, once its pass is committed (nil when nothing waits on a hold).
    func blockingHold(committedPass: UInt64) -> ReplyHold? {
        guard let first, first.pass <= committedPass else { return nil }
        return first.hold
    }

    mutating func removeAll() {
        sealed.removeAll()
        open = nil
        byteCount = 0
    }
}
