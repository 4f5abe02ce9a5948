/// A cipher key prepared once and used for many messages: what a `CipherState` holds instead of the
/// key's bytes. An implementation may keep per-key state (LibCrypto's keeps an AEAD context already
/// initialised with the key, so that each message only sets its nonce). Instances are shared by the
/// copies of a `CipherState` (it is a value), possibly on different threads: an implementation must be
/// safe to use from several threads at once.
///
/// Both operations work on caller-provided memory so that a transport can seal and open a packet
/// inside the buffer that holds it. `input` and `output` have the same length; they may be the same
/// memory (in place), and must not otherwise overlap; neither may overlap `associatedData` or `tag`.
public protocol NoiseCipherKey: AnyObject, Sendable {
    /// ENCRYPT(k, n, ad, plaintext): the ciphertext of `input` into `output`, its 16-byte tag into
    /// `tag`. `nonce` is the full 64-bit counter, including 2^64-1 (which REKEY uses).
    func seal(nonce: UInt64, associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
              output: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws
    /// DECRYPT(k, n, ad, ciphertext): the plaintext of `input` into `output`, or a thrown error when
    /// `tag` does not authenticate it; then `output` holds no unauthenticated bytes (it is cleared).
    func open(nonce: UInt64, associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
              output: UnsafeMutableRawBufferPointer, tag: UnsafeRawBufferPointer) throws
}

/// The cipher key of a `NoiseCryptography` that does not make its own (`makeCipherKey`'s default):
/// keeps the key's bytes and calls the primitives' array `encrypt`/`decrypt` for each message.
final class CopyingCipherKey: NoiseCipherKey {
    let crypto: any NoiseCryptography
    let key: [UInt8]

    init(crypto: any NoiseCryptography, key: [UInt8]) {
        self.crypto = crypto
        self.key = key
    }

    func seal(nonce: UInt64, associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
              output: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws {
        let sealed = try crypto.encrypt(key: key, nonce: nonce, associatedData: Array(associatedData), plaintext: Array(input))
        guard sealed.count == input.count + CipherState.tagLength, tag.count == CipherState.tagLength else {
            throw NoiseError.cryptographyFailure("encrypt: \(sealed.count) bytes for \(input.count)")
        }
        sealed.withUnsafeBytes { bytes in
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<input.count]))
            tag.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[input.count...]))
        }
    }

    func open(nonce: UInt64, associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
              output: UnsafeMutableRawBufferPointer, tag: UnsafeRawBufferPointer) throws {
        let plaintext: [UInt8]
        do {
            plaintext = try crypto.decrypt(key: key, nonce: nonce, associatedData: Array(associatedData),
                                           ciphertext: Array(input) + Array(tag))
        } catch {
            output.initializeMemory(as: UInt8.self, repeating: 0)
            throw error
        }
        guard plaintext.count == output.count else {
            output.initializeMemory(as: UInt8.self, repeating: 0)
            throw NoiseError.decryptionFailed
        }
        plaintext.withUnsafeBytes { output.copyMemory(from: $0) }
    }
}
