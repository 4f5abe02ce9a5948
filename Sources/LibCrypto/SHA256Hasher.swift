import CLibCrypto

/// SHA-256 over data that arrives in pieces (a file read or written chunk by chunk), from libcrypto.
public final class SHA256Hasher: @unchecked Sendable { // the context is only touched by its owner, one call at a time
    private let context: OpaquePointer

    /// A fresh hash.
    public init() {
        // EVP_MD_CTX_new fails only when the library cannot allocate: nothing to recover.
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("libcrypto: EVP_MD_CTX_new failed") }
        self.context = context
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "libcrypto: SHA-256 init failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes`.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1, "libcrypto: SHA-256 update failed")
    }

    /// Adds `bytes`.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything added (32 bytes). The hasher keeps its state: it may go on.
    public func digest() -> [UInt8] {
        guard let copy = EVP_MD_CTX_new() else { preconditionFailure("libcrypto: EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(copy) }
        precondition(EVP_MD_CTX_copy_ex(copy, context) == 1, "libcrypto: SHA-256 copy failed")
        var digest = [UInt8](repeating: 0, count: SHA256.digestLength)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(copy, &digest, &length) == 1 && length == 32, "libcrypto: SHA-256 final failed")
        return digest
    }
}
