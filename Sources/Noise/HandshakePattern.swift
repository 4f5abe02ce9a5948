/// A token of a handshake pattern (Noise section 7.1, and "psk" from section 9).
public enum NoiseToken: String, Sendable, Equatable, CaseIterable {
    case e, s, ee, es, se, ss, psk
}

/// A handshake pattern (Noise section 7): the pre-messages and the message patterns, the first
/// written by the initiator and the rest alternating. Every pattern of sections 7.4 (one-way), 7.5
/// (fundamental interactive) and 7.6 (deferred) is in `HandshakePattern.named`, and any of them
/// takes the psk modifiers of section 9.
public struct HandshakePattern: Sendable, Equatable {
    /// The name in a protocol name, modifiers included: "XX", "IK", "XXpsk3".
    public let name: String
    /// The initiator's pre-message (keys the responder knows in advance): [], [.s] or [.e], [.e, .s].
    public let initiatorPreMessage: [NoiseToken]
    /// The responder's pre-message (keys the initiator knows in advance).
    public let responderPreMessage: [NoiseToken]
    /// The message patterns; message i is written by the initiator when i is even.
    public let messages: [[NoiseToken]]

    public init(name: String, initiatorPreMessage: [NoiseToken] = [], responderPreMessage: [NoiseToken] = [],
                messages: [[NoiseToken]]) {
        self.name = name
        self.initiatorPreMessage = initiatorPreMessage
        self.responderPreMessage = responderPreMessage
        self.messages = messages
    }

    /// A one-way pattern (N, K, X and their psk variants): one handshake message, after which only
    /// the initiator sends (Noise section 7.4).
    public var isOneWay: Bool { messages.count == 1 }

    /// True when the pattern has at least one psk token (Noise section 9: then "e" also mixes the
    /// key).
    public var usesPreSharedKeys: Bool { messages.contains { $0.contains(.psk) } }

    /// The number of psk tokens, hence of pre-shared keys each side must supply.
    public var preSharedKeyCount: Int { messages.reduce(0) { $0 + $1.filter { $0 == .psk }.count } }

    /// XX: mutual authentication, both static keys sent encrypted; no key known in advance.
    public static let xx = basePatterns["XX"]!
    /// IK: the initiator knows the responder's static key in advance; one round trip.
    public static let ik = basePatterns["IK"]!
    /// X: one-way, from a known sender to a recipient whose static key the sender knows.
    public static let x = basePatterns["X"]!

    /// The pattern with this name: a base name ("XX", "NK1", "X1X1") followed by any psk modifiers
    /// joined with "+" ("XXpsk3", "NNpsk0+psk2"). Throws `unknownPattern` otherwise.
    public static func named(_ fullName: String) throws(NoiseError) -> HandshakePattern {
        guard let modifierStart = fullName.firstIndex(where: { $0.isLowercase }) else {
            guard let base = basePatterns[fullName] else { throw .unknownPattern(fullName) }
            return base
        }
        let baseName = String(fullName[..<modifierStart])
        guard var pattern = basePatterns[baseName] else { throw .unknownPattern(fullName) }
        for modifier in fullName[modifierStart...].split(separator: "+", omittingEmptySubsequences: false) {
            guard modifier.hasPrefix("psk"), let position = Int(modifier.dropFirst(3)),
                  String(position) == modifier.dropFirst(3), position >= 0, position <= pattern.messages.count
            else { throw .unknownPattern(fullName) }
            pattern = pattern.addingPSK(at: position)
        }
        return HandshakePattern(name: fullName, initiatorPreMessage: pattern.initiatorPreMessage,
                                responderPreMessage: pattern.responderPreMessage, messages: pattern.messages)
    }

    /// Noise section 9.2: "psk0" puts a psk token at the start of the first message, "pskN" at the
    /// end of message N.
    func addingPSK(at position: Int) -> HandshakePattern {
        var messages = self.messages
        if position == 0 {
            messages[0].insert(.psk, at: 0)
        } else {
            messages[position - 1].append(.psk)
        }
        return HandshakePattern(name: name, initiatorPreMessage: initiatorPreMessage,
                                responderPreMessage: responderPreMessage, messages: messages)
    }

    /// Every base pattern of Noise revision 34, sections 7.4 to 7.6, by name.
    public static let allBaseNames: [String] = basePatternTable.map { $0.0 }

    private static let basePatterns: [String: HandshakePattern] = {
        var table: [String: HandshakePattern] = [:]
        for (name, text) in basePatternTable { table[name] = parse(name: name, text: text) }
        return table
    }()

    /// The patterns as the specification writes them: pre-messages before "...", then messages,
    /// "->" from the initiator and "<-" from the responder, separated by ";".
    private static let basePatternTable: [(String, String)] = [
        // 7.4 One-way handshake patterns.
        ("N", "<- s; ...; -> e, es"),
        ("K", "-> s; <- s; ...; -> e, es, ss"),
        ("X", "<- s; ...; -> e, es, s, ss"),
        // 7.5 Interactive handshake patterns (fundamental).
        ("NN", "-> e; <- e, ee"),
        ("NK", "<- s; ...; -> e, es; <- e, ee"),
        ("NX", "-> e; <- e, ee, s, es"),
        ("KN", "-> s; ...; -> e; <- e, ee, se"),
        ("KK", "-> s; <- s; ...; -> e, es, ss; <- e, ee, se"),
        ("KX", "-> s; ...; -> e; <- e, ee, se, s, es"),
        ("XN", "-> e; <- e, ee; -> s, se"),
        ("XK", "<- s; ...; -> e, es; <- e, ee; -> s, se"),
        ("XX", "-> e; <- e, ee, s, es; -> s, se"),
        ("IN", "-> e, s; <- e, ee, se"),
        ("IK", "<- s; ...; -> e, es, s, ss; <- e, ee, se"),
        ("IX", "-> e, s; <- e, ee, se, s, es"),
        // 7.6 Interactive handshake patterns (deferred).
        ("NK1", "<- s; ...; -> e; <- e, ee, es"),
        ("NX1", "-> e; <- e, ee, s; -> es"),
        ("X1N", "-> e; <- e, ee; -> s; <- se"),
        ("X1K", "<- s; ...; -> e, es; <- e, ee; -> s; <- se"),
        ("XK1", "<- s; ...; -> e; <- e, ee, es; -> s, se"),
        ("X1K1", "<- s; ...; -> e; <- e, ee, es; -> s; <- se"),
        ("X1X", "-> e; <- e, ee, s, es; -> s; <- se"),
        ("XX1", "-> e; <- e, ee, s; -> es, s, se"),
        ("X1X1", "-> e; <- e, ee, s; -> es, s; <- se"),
        ("K1N", "-> s; ...; -> e; <- e, ee; -> se"),
        ("K1K", "-> s; <- s; ...; -> e, es; <- e, ee; -> se"),
        ("KK1", "-> s; <- s; ...; -> e; <- e, ee, se, es"),
        ("K1K1", "-> s; <- s; ...; -> e; <- e, ee, es; -> se"),
        ("K1X", "-> s; ...; -> e; <- e, ee, s, es; -> se"),
        ("KX1", "-> s; ...; -> e; <- e, ee, se, s; -> es"),
        ("K1X1", "-> s; ...; -> e; <- e, ee, s; -> se, es"),
        ("I1N", "-> e, s; <- e, ee; -> se"),
        ("I1K", "<- s; ...; -> e, es, s; <- e, ee; -> se"),
        ("IK1", "<- s; ...; -> e, s; <- e, ee, se, es"),
        ("I1K1", "<- s; ...; -> e, s; <- e, ee, es; -> se"),
        ("I1X", "-> e, s; <- e, ee, s, es; -> se"),
        ("IX1", "-> e, s; <- e, ee, se, s; -> es"),
        ("I1X1", "-> e, s; <- e, ee, s; -> se, es"),
    ]

    /// Parses the fixed table above (never peer input).
    private static func parse(name: String, text: String) -> HandshakePattern {
        let lines = text.split(separator: ";").map { $0.trimmingSpaces }
        var initiatorPre: [NoiseToken] = []
        var responderPre: [NoiseToken] = []
        var messages: [[NoiseToken]] = []
        let preMessageEnd = lines.firstIndex(of: "...")
        for (index, line) in lines.enumerated() where line != "..." {
            let fromInitiator = line.hasPrefix("->")
            let tokens = line.dropFirst(2).split(separator: ",").map { NoiseToken(rawValue: $0.trimmingSpaces)! }
            if let preMessageEnd, index < preMessageEnd {
                if fromInitiator { initiatorPre = tokens } else { responderPre = tokens }
            } else {
                precondition(fromInitiator == (messages.count % 2 == 0), "pattern table: \(name) does not alternate")
                messages.append(tokens)
            }
        }
        return HandshakePattern(name: name, initiatorPreMessage: initiatorPre, responderPreMessage: responderPre,
                                messages: messages)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
