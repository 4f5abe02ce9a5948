import CLibCrypto

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
    nonisolated(unsafe) private static let cipher: OpaquePointer? =
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
        guard let context = EVP_CIPHER_CTX_new() else { throw .libraryFailure(function: "EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
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
        var written = 0
        if !plaintext.isEmpty {
            let ok = output.withUnsafeMutableBufferPointer {
                EVP_EncryptUpdate(context, $0.baseAddress, &outputLength, plaintext, Int32(plaintext.count))
            }
            guard ok == 1, outputLength == Int32(plaintext.count) else {
                throw .libraryFailure(function: "EVP_EncryptUpdate")
            }
            written = Int(outputLength)
        }
        var tail = [UInt8](repeating: 0, count: 16)
        guard EVP_EncryptFinal_ex(context, &tail, &outputLength) == 1, outputLength == 0 else {
            throw .libraryFailure(function: "EVP_EncryptFinal_ex")
        }
        let ok = output.withUnsafeMutableBufferPointer {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tagLength), $0.baseAddress! + written)
        }
        guard ok == 1 else { throw .libraryFailure(function: "EVP_CIPHER_CTX_ctrl (get tag)") }
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
        var tag = Array(ciphertext[bodyLength...])
        guard let context = EVP_CIPHER_CTX_new() else { throw .libraryFailure(function: "EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
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
        if bodyLength > 0 {
            let ok = ciphertext.withUnsafeBufferPointer { input in
                plaintext.withUnsafeMutableBufferPointer {
                    EVP_DecryptUpdate(context, $0.baseAddress, &outputLength, input.baseAddress, Int32(bodyLength))
                }
            }
            guard ok == 1, outputLength == Int32(bodyLength) else {
                secureZero(&plaintext)
                throw .libraryFailure(function: "EVP_DecryptUpdate")
            }
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagLength), &tag) == 1 else {
            secureZero(&plaintext)
            throw .libraryFailure(function: "EVP_CIPHER_CTX_ctrl (set tag)")
        }
        var tail = [UInt8](repeating: 0, count: 16)
        guard EVP_DecryptFinal_ex(context, &tail, &outputLength) == 1 else {
            // The tag did not verify: the decrypted bytes are unauthenticated; clear them.
            secureZero(&plaintext)
            throw .authenticationFailed
        }
        return plaintext
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
