/// Parses a size option such as `--max-file-size`: a number of bytes, optionally followed by `K`,
/// `M` or `G` (KiB, MiB, GiB; `KiB`, `MiB`, `GiB` and lower case are accepted too).
public func parseByteSize(_ text: String, option: String) throws(UsageError) -> UInt64 {
    var digits = Substring(text)
    var multiplier: UInt64 = 1
    for (suffixes, value) in [(["kib", "k"], UInt64(1) << 10), (["mib", "m"], UInt64(1) << 20), (["gib", "g"], UInt64(1) << 30)] {
        if let suffix = suffixes.first(where: { text.lowercased().hasSuffix($0) }) {
            digits = digits.dropLast(suffix.count)
            multiplier = value
            break
        }
    }
    guard let number = UInt64(digits), case let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier), !overflow,
          bytes <= UInt64(1) << 50 else {
        throw UsageError("invalid value '\(text)' for '--\(option)': expected a size in bytes, optionally with K, M or G (e.g. '64M')")
    }
    return bytes
}
