import Glibc

/// Small files the chat keeps in the user's directories: identity keys (secret, mode 0600) and pin
/// files (`known_relays`, `known_contacts`). Written atomically: a temporary file created with
/// `O_CREAT|O_EXCL` and the final mode, written, `fsync`ed, then renamed over the target, so a reader
/// never sees half a file and a key is never readable by others, not even for a moment.
public enum SecretFiles {
    /// What reading a file found.
    public struct Contents: Sendable {
        /// The bytes as UTF-8 text (invalid sequences repaired).
        public var text: String
        /// The permission bits (`st_mode & 0o7777`).
        public var mode: UInt32
    }

    /// Why a file could not be read or written.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The path.
        public var path: String
        /// What failed, with errno's words.
        public var problem: String
        /// errno.
        public var code: Int32
        public var description: String { "\(path): \(problem)" }
        /// True when the file does not exist.
        public var isMissing: Bool { code == ENOENT }
    }

    /// The most a key or pin file may hold (a pin file of 16,000 relays or contacts).
    public static let sizeLimit = 1 << 20

    /// Reads `path` whole, with its mode. Refuses a file over `sizeLimit`.
    public static func read(_ path: String) throws(Failure) -> Contents {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, "cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(path, "cannot stat") }
        guard Int(status.st_size) <= sizeLimit else {
            throw Failure(path: path, problem: "larger than \(sizeLimit) bytes", code: EFBIG)
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(path, "cannot read")
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            guard bytes.count <= sizeLimit else { throw Failure(path: path, problem: "larger than \(sizeLimit) bytes", code: EFBIG) }
        }
        return Contents(text: String(decoding: bytes, as: UTF8.self), mode: UInt32(status.st_mode) & 0o7777)
    }

    /// Writes `text` to `path` atomically with `mode` (0600 for keys), creating the directory (mode
    /// 0700) and its missing parents.
    public static func writeAtomically(_ text: String, to path: String, mode: UInt32 = 0o600) throws(Failure) {
        let directory = parentDirectory(of: path)
        try createDirectories(directory)
        var random = SystemRandomNumberGenerator()
        let temporary = "\(path).tmp-\(getpid())-\(random.next() & 0xFFFF_FFFF)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw failure(temporary, "cannot create") }
        var isWritten = false
        defer {
            if !isWritten { unlink(temporary) }
        }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let error = failure(temporary, "cannot write")
                close(descriptor)
                throw error
            }
            offset += count
        }
        // The mode given to open() is filtered by the umask; set it exactly.
        guard fchmod(descriptor, mode_t(mode)) == 0, fsync(descriptor) == 0 else {
            let error = failure(temporary, "cannot set mode or sync")
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw failure(path, "cannot rename \(temporary) to it") }
        isWritten = true
    }

    /// Creates `path` with `O_CREAT|O_EXCL` semantics: fails (EEXIST) if it exists. Used for a new
    /// identity key, so that two runs starting at once never overwrite each other's key.
    public static func createExclusively(_ text: String, at path: String, mode: UInt32 = 0o600) throws(Failure) {
        var status = stat()
        if stat(path, &status) == 0 { throw Failure(path: path, problem: "already exists", code: EEXIST) }
        // Write to a temporary file, then link() it into place: link fails if the target exists, so
        // the first of two racing runs wins and the second reads the winner's key.
        let directory = parentDirectory(of: path)
        try createDirectories(directory)
        let temporary = "\(path).new-\(getpid())"
        unlink(temporary)
        try writeAtomically(text, to: temporary, mode: mode)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else { throw failure(path, "cannot create") }
    }

    /// The directory part of `path` (`.` when there is none).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `mkdir -p` with mode 0700 for the directories it creates.
    public static func createDirectories(_ path: String) throws(Failure) {
        var status = stat()
        if stat(path, &status) == 0 { return }
        let parent = parentDirectory(of: path)
        if parent != path, parent != "." { try createDirectories(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw failure(path, "cannot create directory") }
    }

    /// An environment variable, or nil when unset or empty.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// Today's UTC date, `2026-11-30`, for a pin's first-seen field.
    public static func today() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
    }

    private static func failure(_ path: String, _ what: String) -> Failure {
        let code = errno
        return Failure(path: path, problem: "\(what): \(String(cString: strerror(code)))", code: code)
    }
}
