import Chat
import ChatClientCore
import Foundation
import Glibc
import LibCrypto

/// The thin file-IO shell of file transfer: reading a file to send, writing one being received
/// under a temporary name, renaming it to a safe final name once its SHA-256 matched
/// (Specs/chat-protocol.md, section 4.12). Every rule is in `FileTransferBook`.
extension ClientFiles {
    /// Where received files go by default: `$XDG_DOWNLOAD_DIR` when it is an absolute path, else
    /// `~/Downloads`.
    static func downloadDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let given = environment["XDG_DOWNLOAD_DIR"], given.hasPrefix("/") { return URL(fileURLWithPath: given) }
        return URL(fileURLWithPath: (environment["HOME"] ?? NSHomeDirectory()) + "/Downloads")
    }
}

/// A file-system problem, in words (`disk full` for ENOSPC).
struct FileIOError: Error, CustomStringConvertible {
    let description: String

    init(_ what: String, errno code: Int32) {
        let reason = code == ENOSPC || code == EDQUOT ? "disk full" : String(cString: strerror(code))
        description = "\(what): \(reason)"
    }
}

/// A file opened for sending; its SHA-256 is computed when it is opened.
final class LocalFileSource: FileSource, @unchecked Sendable { // the descriptor is read with pread only
    let descriptor: Int32
    let size: UInt64
    let digest: FileDigest

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileIOError("cannot open \(path)", errno: errno) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw FileIOError("\(path) is not a regular file", errno: EINVAL)
        }
        self.descriptor = descriptor
        self.size = UInt64(status.st_size)
        let hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while offset < size {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            guard count > 0 else {
                close(descriptor)
                throw FileIOError("cannot read \(path)", errno: count < 0 ? errno : EIO)
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += UInt64(count)
        }
        self.digest = FileDigest(hasher.digest())!
    }

    deinit { close(descriptor) }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if read < 0, errno == EINTR { continue }
            guard read >= 0 else { throw FileIOError("cannot read the file", errno: errno) }
            if read == 0 { break }
            done += read
        }
        return Array(bytes.prefix(done))
    }
}

/// A file being received: written under `.NAME.part-ID` in the download directory, hashed as it
/// is written, renamed to a name that is not taken (`NAME (1).ext`, ...) once verified. Never
/// overwrites anything: the final name is claimed with link(2), which fails when it exists.
final class LocalFileSink: FileSink, @unchecked Sendable { // used by the session's queue only
    let directory: String
    let safeName: String
    let temporaryPath: String
    private var descriptor: Int32
    private let hasher = SHA256Hasher()

    init(directory: String, offeredName: String, transfer: UInt64) throws {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.safeName = FileNames.safe(offeredName)
        self.temporaryPath = directory + "/." + safeName.prefix(100) + ".part-\(transfer)"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileIOError("cannot create \(temporaryPath)", errno: errno) }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw FileIOError("cannot write \(temporaryPath)", errno: written < 0 ? errno : EIO) }
            done += written
        }
        hasher.update(bytes)
    }

    func digest() throws -> FileDigest { FileDigest(hasher.digest())! }

    func commit() throws -> String {
        guard fsync(descriptor) == 0 else { throw FileIOError("cannot write \(temporaryPath)", errno: errno) }
        // Private while partial; verified, it gets a downloaded file's usual mode (umask applied).
        let mask = umask(0o022)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        close(descriptor)
        descriptor = -1
        for attempt in 0..<10_000 {
            let path = directory + "/" + FileNames.numbered(safeName, attempt: attempt)
            if link(temporaryPath, path) == 0 {
                unlink(temporaryPath)
                return path
            }
            guard errno == EEXIST else { throw FileIOError("cannot name the file \(path)", errno: errno) }
        }
        throw FileIOError("no free name for \(safeName)", errno: EEXIST)
    }

    func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
    }
}
