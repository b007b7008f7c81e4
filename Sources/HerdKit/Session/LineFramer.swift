import NIOCore

/// Splits a connection's bytes into lines (LF, CRLF, or end of input: PROTOCOL.md section 1) as slices of
/// the buffers they were read into. A complete line is never copied; only a line split across reads is.
struct LineFramer {
    enum Framed {
        /// A line without its LF (a CR before it is still there: it is white space to the protocol).
        case line(ByteBuffer)
        /// A line grew past the limit: its first bytes. Nothing after it is framed.
        case overlong(prefix: ByteBuffer)
    }

    let maximumLineBytes: Int
    let echoBytes: Int
    private var buffer: ByteBuffer?
    private(set) var overflowed = false

    init(maximumLineBytes: Int, echoBytes: Int = 256) {
        self.maximumLineBytes = maximumLineBytes
        self.echoBytes = echoBytes
    }

    /// Bytes held that are not yet a complete line.
    var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    mutating func append(_ bytes: ByteBuffer) {
        guard !overflowed else { return }
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = bytes
        } else {
            var incoming = bytes
            buffer!.writeBuffer(&incoming)
        }
    }

    /// The next complete line, or nil when more bytes are needed.
    mutating func next() -> Framed? {
        guard !overflowed, var current = buffer, current.readableBytes > 0 else { return nil }
        let found = current.withUnsafeReadableBytes { bytes -> Int? in
            guard let base = bytes.baseAddress, let hit = memchr(base, 0x0A, bytes.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        guard let length = found else {
            if current.readableBytes > maximumLineBytes { return overlong(current) }
            return nil
        }
        if length > maximumLineBytes { return overlong(current) }
        buffer = nil  // no second reference while slicing, so the buffer is not copied
        let line = current.readSlice(length: length)!
        current.moveReaderIndex(forwardBy: 1)
        buffer = current
        return .line(line)
    }

    /// At end of input: the last line if it had no terminator (it counts as complete).
    mutating func finish() -> Framed? {
        guard !overflowed, let current = buffer, current.readableBytes > 0 else { return nil }
        buffer = nil
        if current.readableBytes > maximumLineBytes { return overlong(current) }
        return .line(current)
    }

    /// Gives back memory a partial line pins: after a read, a few bytes of a line may keep a whole read
    /// buffer alive, so they move to a buffer of their own size.
    mutating func compact() {
        guard let current = buffer else { return }
        if current.readableBytes == 0 {
            buffer = nil
        } else if current.capacity > 4 * current.readableBytes + 4096 {
            var copy = ByteBufferAllocator().buffer(capacity: current.readableBytes)
            copy.writeImmutableBuffer(current)
            buffer = copy
        }
    }

    private mutating func overlong(_ current: ByteBuffer) -> Framed {
        overflowed = true
        buffer = nil
        return .overlong(
            prefix: current.getSlice(at: current.readerIndex, length: min(echoBytes, current.readableBytes))!)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
