import CLibCrypto
import Synchronization

/// ChaCha20-Poly1305 (RFC 8439) from libcrypto's EVP_chacha20_poly1305: a 32-byte key, a 12-byte
/// nonce, associated data, and a 16-byte tag appended to the ciphertext.
public enum ChaChaPoly {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// The cipher, fetched from the default provider once. Passing `EVP_chacha20_poly1305()` to every
    /// `EVP_*Init_ex` made OpenSSL 3 fetch it by name on every packet (a name lookup under a lock,
    /// about a third of the sealing cost of a 1,000-byte packet). Falls back to the legacy handle
    /// (fetched per call) if the fetch fails. Immutable after the fetch; OpenSSL's fetched objects are
    /// safe to share between threads.
    nonisolated(unsafe) static let cipher: OpaquePointer? =
        EVP_CIPHER_fetch(nil, "ChaCha20-Poly1305", nil) ?? EVP_chacha20_poly1305()

    /// The 12-byte nonce Noise uses (Noise section 12.3): 4 zero bytes, then the 64-bit counter
    /// little-endian.
    public static func noiseNonce(_ counter: UInt64) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: nonceLength)
        for index in 0..<8 { nonce[4 + index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        return nonce
    }

    /// Encrypts `plaintext` and returns the ciphertext followed by the 16-byte tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8],
                            associatedData: [UInt8] = []) throws(LibCryptoError) -> [UInt8] {
        try checkLengths(key: key, nonce: nonce, data: plaintext, associatedData: associatedData)
        let context = try ContextPool.take()
        defer { ContextPool.give(context) }
        guard EVP_EncryptInit_ex(context, cipher, nil, key, nonce) == 1 else {
            throw .libraryFailure(function: "EVP_EncryptInit_ex")
        }
        var outputLength: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &outputLength, associatedData, Int32(associatedData.count)) == 1 else {
                throw .libraryFailure(function: "EVP_EncryptUpdate (associated data)")
            }
        }
        var output = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        let written = plaintext.count
        let ok = output.withUnsafeMutableBufferPointer { buffer -> Bool in
            let base = buffer.baseAddress!
            if written > 0 {
                guard EVP_EncryptUpdate(context, base, &outputLength, plaintext, Int32(written)) == 1,
                      outputLength == Int32(written) else { return false }
            }
            // ChaCha20-Poly1305 writes nothing at Final: it only computes the tag.
            guard EVP_EncryptFinal_ex(context, base + written, &outputLength) == 1, outputLength == 0 else { return false }
            return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tagLength), base + written) == 1
        }
        guard ok else { throw .libraryFailure(function: "EVP_EncryptUpdate/Final/ctrl (get tag)") }
        return output
    }

    /// Verifies the tag at the end of `ciphertext` and returns the plaintext; throws
    /// `authenticationFailed` (and returns nothing) when it does not verify or the input is shorter
    /// than a tag.
    public static func open(_ ciphertext: [UInt8], key: [UInt8], nonce: [UInt8],
                            associatedData: [UInt8] = []) throws(LibCryptoError) -> [UInt8] {
        try checkLengths(key: key, nonce: nonce, data: ciphertext, associatedData: associatedData)
        guard ciphertext.count >= tagLength else { throw .authenticationFailed }
        let bodyLength = ciphertext.count - tagLength
        let context = try ContextPool.take()
        defer { ContextPool.give(context) }
        guard EVP_DecryptInit_ex(context, cipher, nil, key, nonce) == 1 else {
            throw .libraryFailure(function: "EVP_DecryptInit_ex")
        }
        var outputLength: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &outputLength, associatedData, Int32(associatedData.count)) == 1 else {
                throw .libraryFailure(function: "EVP_DecryptUpdate (associated data)")
            }
        }
        var plaintext = [UInt8](repeating: 0, count: bodyLength)
        // 0: opened; 1: a library failure; 2: the tag did not verify.
        let outcome = ciphertext.withUnsafeBufferPointer { input -> Int in
            plaintext.withUnsafeMutableBufferPointer { output -> Int in
                if bodyLength > 0 {
                    guard EVP_DecryptUpdate(context, output.baseAddress, &outputLength, input.baseAddress, Int32(bodyLength)) == 1,
                          outputLength == Int32(bodyLength) else { return 1 }
                }
                // The tag is read from the input in place (OpenSSL copies it).
                let tag = UnsafeMutableRawPointer(mutating: input.baseAddress! + bodyLength)
                guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagLength), tag) == 1 else { return 1 }
                var finalLength: Int32 = 0
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { tail in
                    EVP_DecryptFinal_ex(context, tail.baseAddress, &finalLength) == 1 ? 0 : 2
                }
            }
        }
        guard outcome == 0 else {
            // The decrypted bytes are unauthenticated; clear them.
            secureZero(&plaintext)
            if outcome == 1 { throw .libraryFailure(function: "EVP_DecryptUpdate/ctrl (set tag)") }
            throw .authenticationFailed
        }
        return plaintext
    }

    /// Cipher contexts kept for reuse: `EVP_CIPHER_CTX_new` and `_free` per packet cost about as much
    /// as sealing a small packet. A context is re-initialised with its key and nonce on every use;
    /// one returned to a full pool is freed (which cleanses it).
    private enum ContextPool {
        static let limit = 8
        static let contexts = Mutex<[OpaquePointerBox]>([])

        static func take() throws(LibCryptoError) -> OpaquePointer {
            if let box = contexts.withLock({ $0.popLast() }) { return box.pointer }
            guard let context = EVP_CIPHER_CTX_new() else { throw .libraryFailure(function: "EVP_CIPHER_CTX_new") }
            return context
        }

        static func give(_ context: OpaquePointer) {
            let isKept = contexts.withLock { pool -> Bool in
                guard pool.count < limit else { return false }
                pool.append(OpaquePointerBox(pointer: context))
                return true
            }
            if !isKept { EVP_CIPHER_CTX_free(context) }
        }
    }

    /// A context pointer that may cross threads: each is used by one caller at a time (the pool hands
    /// it out under its lock).
    private struct OpaquePointerBox: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static func checkLengths(key: [UInt8], nonce: [UInt8], data: [UInt8],
                                     associatedData: [UInt8]) throws(LibCryptoError) {
        guard key.count == keyLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: keyLength, actual: key.count)
        }
        guard nonce.count == nonceLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 nonce", expected: nonceLength, actual: nonce.count)
        }
        guard data.count <= Int(Int32.max) - tagLength else { throw .inputTooLong(what: "ChaCha20-Poly1305 text") }
        guard associatedData.count <= Int(Int32.max) else { throw .inputTooLong(what: "associated data") }
    }
}
