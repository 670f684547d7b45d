// The one HTTP operation the teacher client needs (POST a JSON body, read status and body), behind
// a protocol so retry and fallback logic can be tested with a scripted transport and no network.
// The real transport is Foundation's URLSession (FoundationNetworking on Linux, backed by libcurl).

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP response: status code, headers (names lower-cased) and body bytes.
public struct HTTPReply: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// Response headers, names lower-cased.
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]

    /// A reply.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// No HTTP response at all: the connection failed, was reset, or timed out.
public struct TransportFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in words.
    public let message: String
    /// True when the request ran out of time.
    public let isTimeout: Bool

    /// A failure.
    public init(message: String, isTimeout: Bool = false) {
        self.message = message
        self.isTimeout = isTimeout
    }

    /// The message.
    public var description: String { message }
}

/// Sends one POST request and returns the response, whatever its status.
public protocol HTTPTransport: Sendable {
    /// POSTs `body` to `url` with `headers`; gives up after `timeout` seconds.
    func post(_ url: URL, headers: [String: String], body: [UInt8], timeout: Double) async throws(TransportFailure) -> HTTPReply
}

/// The transport over Foundation's URLSession.
public struct URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// A transport with its own ephemeral session (no cookies or cache shared with anything else).
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    public func post(_ url: URL, headers: [String: String], body: [UInt8], timeout: Double) async throws(TransportFailure) -> HTTPReply {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError {
            throw TransportFailure(message: Self.describe(error), isTimeout: error.code == .timedOut)
        } catch {
            throw TransportFailure(message: "\(error)")
        }
        guard let http = response as? HTTPURLResponse else { throw TransportFailure(message: "not an HTTP response") }
        var lowered: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { lowered[name.lowercased()] = value }
        }
        return HTTPReply(status: http.statusCode, headers: lowered, body: Array(data))
    }

    /// URLError's description on Linux is an NSError dump; the localized description is the readable part.
    private static func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: return "timed out"
        case .cannotConnectToHost: return "connection refused"
        case .cannotFindHost: return "unknown host"
        case .networkConnectionLost: return "connection lost"
        default:
            let text = (error as NSError).userInfo[NSLocalizedDescriptionKey] as? String
            return text ?? "URL error \(error.code.rawValue)"
        }
    }
}
