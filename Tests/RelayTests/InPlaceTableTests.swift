@testable import Relay
import Testing

/// The relay's connection and peer table (InPlaceTable.swift): a dictionary whose values are updated
/// where they are, with value semantics.
@Suite("InPlaceTable")
struct InPlaceTableTests {
    @Test func behavesLikeADictionaryThroughInsertUpdateAndRemove() {
        var table = InPlaceTable<Int, [Int]>()
        #expect(table.isEmpty)
        for key in 0..<40 { table[key] = [key] }   // more than the first block of slots
        table[3]?.append(33)
        #expect(table[3] == [3, 33])
        #expect(table.count == 40)
        #expect(table.removeValue(forKey: 5) == [5])
        table[6] = nil
        #expect(table[5] == nil && table[6] == nil)
        #expect(table.count == 38)
        table[100] = [100]                         // reuses a freed slot
        #expect(table[100] == [100])
        #expect(Set(table.keys) == Set((0..<40).filter { $0 != 5 && $0 != 6 } + [100]))
        #expect(table.values.reduce(0) { $0 + $1.count } == 39 + 1)
    }

    @Test func aCopyIsIndependentOfTheOriginal() {
        var original: InPlaceTable<String, Int> = ["a": 1, "b": 2]
        var copy = original
        copy["a"]? += 10
        copy["c"] = 3
        original["b"] = nil
        #expect(original["a"] == 1 && original["b"] == nil && original["c"] == nil)
        #expect(copy["a"] == 11 && copy["b"] == 2 && copy["c"] == 3)
    }
}
