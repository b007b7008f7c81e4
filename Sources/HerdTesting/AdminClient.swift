/// Asks a server's admin endpoint over plain HTTP/1.0, as a scraper or a load balancer's probe would.
public enum AdminClient {
    public struct Answer: Sendable {
        public var status: Int
        public var body: String
    }

    /// `GET path` on `127.0.0.1:port`.
    public static func get(port: Int, _ path: String) async throws -> Answer {
        let text = try await RawClient.exchange(port: port, "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        guard let headEnd = text.range(of: "\r\n\r\n"),
            let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap({ Int($0) })
        else { throw HarnessError("not an HTTP answer from port \(port): \(text.prefix(200))") }
        return Answer(status: status, body: String(text[headEnd.upperBound...]))
    }

    /// The value of one sample of `/metrics` (`name{labels}`, labels in the order the server writes them), or
    /// nil when it is not there.
    public static func sample(_ metrics: String, _ series: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
