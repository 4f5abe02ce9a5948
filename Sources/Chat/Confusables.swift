/// Look-alike names, in the spirit of Unicode TS #39 (section 4, "Confusable Detection").
///
/// Two names whose skeletons are equal look alike and cannot both be held: the relay keys its name
/// table by `ChatNames.skeleton(_:)`, so `aIice` (capital I) and `a1ice` are refused as taken while
/// `alice` is on. The mapping is a compact subset of TS #39's `confusables.txt`, chosen for names:
///
/// | look-alikes | skeleton |
/// |---|---|
/// | ASCII `A`-`Z` | `a`-`z` (case folding: names compare case-insensitively) |
/// | `l`, `L`, `I`, `i`, `1`, `|`, `!`, Cyrillic `І і ӏ Ӏ`, Greek `Ι ι` | `l` |
/// | `O`, `o`, `0`, Cyrillic `О о`, Greek `Ο ο` | `o` |
/// | `rn` (after mapping) | `m` |
/// | `vv` (after mapping) | `w` |
/// | Cyrillic `А а В Е е Һ һ К к М Н Р р С с Ѕ ѕ Т Х х У у Ј ј Ԁ ԁ Ԛ ԛ Ԝ ԝ` | `a a b e e h h k k m h p p c c s s t x x y y j j d d q q w w` |
/// | Greek `Α α Β Ε ε Ζ Η Κ κ Μ Ν ν Ρ ρ Τ τ Υ υ Χ χ` | `a a b e e z h k k m n v p p t t y u x x` |
///
/// What it does not cover: the rest of `confusables.txt` (other scripts, mathematical alphabets,
/// full-width forms, combining marks and NFD decomposition), and other ASCII pairs (`5`/`S`, `cl`/`d`).
/// User names are ASCII by section 6, so the non-ASCII rows matter only for names in other fields;
/// they are here so the skeleton stays right if the name rules ever widen.
extension ChatNames {
    /// The confusable skeleton of `name`: every character mapped by the table above, the rest
    /// lower-cased (ASCII) or kept, then `rn` → `m` and `vv` → `w`.
    public static func skeleton(_ name: String) -> String {
        var mapped = ""
        for scalar in name.unicodeScalars {
            if let replacement = confusables[scalar.value] {
                mapped.unicodeScalars.append(replacement)
            } else if (0x41...0x5A).contains(scalar.value) {
                mapped.unicodeScalars.append(Unicode.Scalar(UInt8(scalar.value + 0x20)))
            } else {
                mapped.unicodeScalars.append(scalar)
            }
        }
        var output = String.UnicodeScalarView()
        var scalars = Array(mapped.unicodeScalars)[...]
        while let first = scalars.first {
            let second = scalars.dropFirst().first
            if first == "r", second == "n" {
                output.append("m")
                scalars = scalars.dropFirst(2)
            } else if first == "v", second == "v" {
                output.append("w")
                scalars = scalars.dropFirst(2)
            } else {
                output.append(first)
                scalars = scalars.dropFirst()
            }
        }
        return String(output)
    }

    /// Code point → the ASCII letter it is shown as, from the table in the type's documentation.
    private static let confusables: [UInt32: Unicode.Scalar] = {
        var table: [UInt32: Unicode.Scalar] = [:]
        func map(_ scalars: String, to target: Unicode.Scalar) {
            for scalar in scalars.unicodeScalars { table[scalar.value] = target }
        }
        map("lLIi1|!\u{0406}\u{0456}\u{04CF}\u{04C0}\u{0399}\u{03B9}", to: "l")
        map("Oo0\u{041E}\u{043E}\u{039F}\u{03BF}", to: "o")
        // Cyrillic
        map("\u{0410}\u{0430}\u{0391}\u{03B1}", to: "a")
        map("\u{0412}\u{0392}", to: "b")
        map("\u{0415}\u{0435}\u{0395}\u{03B5}", to: "e")
        map("\u{04BA}\u{04BB}\u{041D}\u{0397}", to: "h")
        map("\u{041A}\u{043A}\u{039A}\u{03BA}", to: "k")
        map("\u{041C}\u{039C}", to: "m")
        map("\u{0420}\u{0440}\u{03A1}\u{03C1}", to: "p")
        map("\u{0421}\u{0441}", to: "c")
        map("\u{0405}\u{0455}", to: "s")
        map("\u{0422}\u{03A4}\u{03C4}", to: "t")
        map("\u{0425}\u{0445}\u{03A7}\u{03C7}", to: "x")
        map("\u{0423}\u{0443}\u{03A5}", to: "y")
        map("\u{0408}\u{0458}", to: "j")
        map("\u{0500}\u{0501}", to: "d")
        map("\u{051A}\u{051B}", to: "q")
        map("\u{051C}\u{051D}", to: "w")
        map("\u{0396}", to: "z")
        map("\u{039D}", to: "n")
        map("\u{03BD}", to: "v")
        map("\u{03C5}", to: "u")
        return table
    }()
}
