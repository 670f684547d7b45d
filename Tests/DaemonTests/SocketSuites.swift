import Testing

/// Suites whose test bodies block on socket reads. They must not run at the same time: each blocked
/// body holds a thread of Swift's cooperative pool (two threads on a two-core machine), and the daemon
/// answering them needs that pool too. Nested under one serialized parent, they run one at a time.
@Suite(.serialized) struct SocketSuites {}
