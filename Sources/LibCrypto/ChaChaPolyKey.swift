import CLibCrypto
import Noise
import Synchronization

/// A ChaCha20-Poly1305 key prepared once for many packets: `LibCryptoNoise`'s `NoiseCipherKey`.
///
/// `ChaChaPoly.seal`/`open` initialise a cipher context with the key and the nonce for every packet;
/// with OpenSSL 3 that initialisation (the key schedule, the context reset that cleanses it, the
/// parameter look-ups) cost about as much as sealing 1,000 bytes. This object keeps one encryption
/// and one decryption context, each initialised with the key once, when first used (a sending key
/// never makes a decryption context, a receiving key never an encryption one); each packet then only
/// sets its nonce: `EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc)` keeps the cipher and the key
/// and resets the nonce, the associated data, the text length and the Poly1305 state.
///
/// Thread safety: the copies of a `CipherState` share this object, so the contexts are used under a
/// lock (uncontended in a connection, which seals and opens on one thread). The key's bytes are kept
/// (for the contexts made later) and cleared in `deinit`; `EVP_CIPHER_CTX_free` cleanses the
/// contexts.
public final class ChaChaPolyKey: NoiseCipherKey {
    /// Only touched under the lock (`@unchecked`: it holds C pointers).
    private struct Contexts: @unchecked Sendable {
        /// The key's 32 bytes (owned; cleared and freed in `deinit`).
        let key: UnsafeMutableRawPointer
        var encryption: OpaquePointer?
        var decryption: OpaquePointer?

        /// The context for `encrypting` (true) or decrypting, initialised with the key (made now if
        /// it does not exist yet).
        mutating func context(encrypting: Bool) throws(LibCryptoError) -> OpaquePointer {
            if let context = encrypting ? encryption : decryption { return context }
            guard let context = EVP_CIPHER_CTX_new() else { throw .libraryFailure(function: "EVP_CIPHER_CTX_new") }
            let keyBytes = key.assumingMemoryBound(to: UInt8.self)
            guard EVP_CipherInit_ex(context, ChaChaPoly.cipher, nil, keyBytes, nil, encrypting ? 1 : 0) == 1 else {
                EVP_CIPHER_CTX_free(context)
                throw .libraryFailure(function: "EVP_CipherInit_ex (key)")
            }
            if encrypting { encryption = context } else { decryption = context }
            return context
        }
    }

    private let contexts: Mutex<Contexts>

    /// A key object for a 32-byte `key`.
    public init(_ key: [UInt8]) throws(LibCryptoError) {
        guard key.count == ChaChaPoly.keyLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: ChaChaPoly.keyLength, actual: key.count)
        }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: ChaChaPoly.keyLength, alignment: 8)
        key.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: ChaChaPoly.keyLength) }
        contexts = Mutex(Contexts(key: storage))
    }

    deinit {
        contexts.withLock { contexts in
            if let context = contexts.encryption { EVP_CIPHER_CTX_free(context) }
            if let context = contexts.decryption { EVP_CIPHER_CTX_free(context) }
            contexts.encryption = nil
            contexts.decryption = nil
            OPENSSL_cleanse(contexts.key, ChaChaPoly.keyLength)
            contexts.key.deallocate()
        }
    }

    public func seal(nonce: UInt64, associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
                     output: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws {
        try check(associatedData: associatedData, input: input, output: output, tag: tag.count)
        if nonce == UInt64.max {
            // Only Rekey() uses the reserved nonce: through the shared pool, so that a receiving
            // key never keeps an encryption context for it.
            let sealed = try contexts.withLock { contexts throws(LibCryptoError) in
                try ChaChaPoly.seal(Array(input), key: Array(UnsafeRawBufferPointer(start: contexts.key, count: ChaChaPoly.keyLength)),
                                    nonce: ChaChaPoly.noiseNonce(nonce), associatedData: Array(associatedData))
            }
            sealed.withUnsafeBytes { bytes in
                if !input.isEmpty { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<input.count])) }
                tag.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[input.count...]))
            }
            return
        }
        try contexts.withLock { contexts throws(LibCryptoError) in
            let context = try contexts.context(encrypting: true)
            try Self.start(context, nonce: nonce, associatedData: associatedData, encrypting: true)
            var length: Int32 = 0
            if !input.isEmpty {
                guard EVP_EncryptUpdate(context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &length,
                                        input.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(input.count)) == 1,
                      length == Int32(input.count) else { throw .libraryFailure(function: "EVP_EncryptUpdate") }
            }
            // ChaCha20-Poly1305 writes nothing at Final: it only computes the tag.
            let tagBytes = tag.baseAddress!.assumingMemoryBound(to: UInt8.self)
            guard EVP_EncryptFinal_ex(context, tagBytes, &length) == 1, length == 0,
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(ChaChaPoly.tagLength), tagBytes) == 1 else {
                throw .libraryFailure(function: "EVP_EncryptFinal_ex/ctrl (get tag)")
            }
        }
    }

    public func open(nonce: UInt64, associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
                     output: UnsafeMutableRawBufferPointer, tag: UnsafeRawBufferPointer) throws {
        try check(associatedData: associatedData, input: input, output: output, tag: tag.count)
        // 0: opened; 1: a library failure; 2: the tag did not verify.
        let outcome = try contexts.withLock { contexts throws(LibCryptoError) -> Int in
            let context = try contexts.context(encrypting: false)
            try Self.start(context, nonce: nonce, associatedData: associatedData, encrypting: false)
            var length: Int32 = 0
            if !input.isEmpty {
                guard EVP_DecryptUpdate(context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &length,
                                        input.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(input.count)) == 1,
                      length == Int32(input.count) else { return 1 }
            }
            // OpenSSL copies the tag; it does not write through this pointer.
            let tagBytes = UnsafeMutableRawPointer(mutating: tag.baseAddress!)
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(ChaChaPoly.tagLength), tagBytes) == 1 else { return 1 }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { tail in
                EVP_DecryptFinal_ex(context, tail.baseAddress, &length) == 1 ? 0 : 2
            }
        }
        guard outcome == 0 else {
            // The decrypted bytes are unauthenticated; clear them.
            if !output.isEmpty { OPENSSL_cleanse(output.baseAddress, output.count) }
            if outcome == 1 { throw LibCryptoError.libraryFailure(function: "EVP_DecryptUpdate/ctrl (set tag)") }
            throw LibCryptoError.authenticationFailed
        }
    }

    /// Sets the nonce (keeping the key) and feeds the associated data.
    private static func start(_ context: OpaquePointer, nonce: UInt64, associatedData: UnsafeRawBufferPointer,
                              encrypting: Bool) throws(LibCryptoError) {
        // Noise's nonce (section 12.3): 4 zero bytes, then the counter little-endian.
        let ok = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ChaChaPoly.nonceLength) { bytes in
            let iv = bytes.baseAddress!
            for index in 0..<4 { iv[index] = 0 }
            for index in 0..<8 { iv[4 + index] = UInt8(truncatingIfNeeded: nonce >> (8 * UInt64(index))) }
            return EVP_CipherInit_ex(context, nil, nil, nil, iv, encrypting ? 1 : 0) == 1
        }
        guard ok else { throw .libraryFailure(function: "EVP_CipherInit_ex (nonce)") }
        if !associatedData.isEmpty {
            var length: Int32 = 0
            guard EVP_CipherUpdate(context, nil, &length, associatedData.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                   Int32(associatedData.count)) == 1 else {
                throw .libraryFailure(function: "EVP_CipherUpdate (associated data)")
            }
        }
    }

    private func check(associatedData: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
                       output: UnsafeMutableRawBufferPointer, tag: Int) throws(LibCryptoError) {
        guard input.count == output.count else {
            throw .invalidLength(what: "ChaCha20-Poly1305 output", expected: input.count, actual: output.count)
        }
        guard tag == ChaChaPoly.tagLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 tag", expected: ChaChaPoly.tagLength, actual: tag)
        }
        guard input.count <= Int(Int32.max) - ChaChaPoly.tagLength else { throw .inputTooLong(what: "ChaCha20-Poly1305 text") }
        guard associatedData.count <= Int(Int32.max) else { throw .inputTooLong(what: "associated data") }
    }
}
