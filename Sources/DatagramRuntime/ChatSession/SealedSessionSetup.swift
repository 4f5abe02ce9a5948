import Chat
import ChatClientCore
import Datagram
import LibCrypto
import Noise
import Relay

// Where the encrypted transport (issue 10) is wired into the shells. The identity work plugs in
// here: `ChatSessionConfiguration.staticKeyPair` (the client's key file) and `.pinCheck` (the
// known_hosts store); `RelayHost`'s `relayKeyPair` (the relay's key file).

extension ChatSessionConfiguration {
    /// The client configuration the core gets: for a session (UDP or TCP) not marked plaintext, sealed with
    /// `LibCryptoNoise`, the static key pair (an ephemeral one when none is given), and the pin check
    /// wrapped so that it sees the relay's address (none given: every relay key is accepted).
    func sealedClientConfiguration() -> ChatClientConfiguration {
        var client = self.client
        guard !isPlaintext, client.datagramConfiguration.sealing == nil else { return client }
        let crypto = LibCryptoNoise()
        guard let keyPair = staticKeyPair ?? (try? crypto.generateKeyPair()) else { return client }
        let relayText = "\(relay)"
        let check = pinCheck
        client.datagramConfiguration.sealing = Sealing(crypto: crypto, staticKeyPair: keyPair, checkPeerKey: { key in
            guard let check else { return .accept }
            guard let identity = IdentityKey(bytes: key) else { return .reject("the relay's key is not 32 bytes") }
            return check(relayText, identity)
        })
        return client
    }
}

extension RelayConfiguration {
    /// The configuration with sealing filled in for the host: `LibCryptoNoise` and `keyPair` (an
    /// ephemeral one when nil). A configuration that already has `connection.sealing` is kept.
    static func sealedForHost(_ configuration: RelayConfiguration, keyPair: NoiseKeyPair?) -> RelayConfiguration {
        var configuration = configuration
        guard configuration.connection.sealing == nil else { return configuration }
        let crypto = LibCryptoNoise()
        guard let pair = keyPair ?? (try? crypto.generateKeyPair()) else { return configuration }
        configuration.connection.sealing = Sealing(crypto: crypto, staticKeyPair: pair)
        // Reset tokens only with a key that outlives this process (section 10.4 of the wire format).
        configuration.announcesResetTokens = keyPair != nil
        return configuration
    }
}
