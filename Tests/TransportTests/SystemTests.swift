import Datagram
import Dispatch
import Synchronization
import Testing
import Transport

@Suite("Clocks, randomness and the re-armable timer")
struct SystemTests {
    @Test func monotonicClockNeverGoesBackwards() {
        let clock = MonotonicClock()
        var previous = clock.now()
        for _ in 0..<1000 {
            let next = clock.now()
            #expect(next >= previous)
            previous = next
        }
        #expect(previous.sinceOrigin >= .zero)
    }

    @Test func wallClockFormatsHoursMinutesSeconds() {
        #expect(WallClock.timeOfDay(secondsSinceEpoch: 0, utc: true) == "00:00:00")
        #expect(WallClock.timeOfDay(secondsSinceEpoch: 86_400 + 3_661, utc: true) == "01:01:01")
        #expect(WallClock.timeOfDay(secondsSinceEpoch: 86_399, utc: true) == "23:59:59")
        #expect(WallClock.timeOfDay().count == 8)
    }

    /// Specs/chat-protocol.md, section 4.6: A client MUST draw its secret from a cryptographically secure source,
    /// once per run.
    @Test func systemRandomFillsWhatItIsAskedFor() {
        #expect(SystemRandom.bytes(count: 0).isEmpty)
        #expect(SystemRandom.bytes(count: 1000).count == 1000)
        // 16 random bytes all zero has probability 2^-128.
        #expect(SystemRandom.bytes(count: 16) != [UInt8](repeating: 0, count: 16))
        let secret = SystemRandom.secret()
        #expect(secret.0 != secret.1)
    }

    @Test func rearmingReplacesAFarDeadlineWithANearOne() async {
        let queue = DispatchQueue(label: "test.timer")
        let fired = Mutex(0)
        let clock = MonotonicClock()
        let holder = TimerHolder()
        queue.sync {
            let timer = RearmableTimer(queue: queue) { fired.withLock { $0 += 1 } }
            timer.arm(at: clock.now() + .seconds(3600), now: clock.now())
            timer.arm(at: clock.now() + .milliseconds(1), now: clock.now())
            holder.keep(timer)
        }
        let didFire = await eventually { fired.withLock { $0 } >= 1 }
        #expect(didFire, "the re-armed timer never fired; the hour-long deadline was not replaced")
        queue.sync { holder.cancel() }
    }

    /// Arming the same deadline again leaves the timer alone, and once it has fired the same
    /// deadline arms it anew: a relay re-arms to the same millisecond after most steps, and a
    /// handler that re-arms to a deadline it found not yet due must still be woken.
    @Test func theSameDeadlineArmedAgainFiresOnceAndAgainAfterFiring() async {
        let queue = DispatchQueue(label: "test.timer-same")
        let fired = Mutex(0)
        let clock = MonotonicClock()
        let holder = TimerHolder()
        let deadline = clock.now() + .milliseconds(5)
        queue.sync {
            let timer = RearmableTimer(queue: queue) { fired.withLock { $0 += 1 } }
            for _ in 0..<3 { timer.arm(at: deadline, now: clock.now()) }
            holder.keep(timer)
        }
        #expect(await eventually { fired.withLock { $0 } >= 1 })
        // After it fired: the same (now past) deadline fires again at once.
        queue.sync { holder.arm(at: deadline, now: clock.now()) }
        #expect(await eventually { fired.withLock { $0 } >= 2 }, "the timer was not re-armed after it had fired")
        queue.sync { holder.cancel() }
        #expect(fired.withLock { $0 } == 2)
    }
}

/// Keeps a timer alive between queue hops; used only on the test's serial queue.
private final class TimerHolder: @unchecked Sendable {  // guard: touched only inside queue.sync blocks
    private var timer: RearmableTimer?
    func keep(_ timer: RearmableTimer) { self.timer = timer }
    func arm(at deadline: Timestamp, now: Timestamp) { timer?.arm(at: deadline, now: now) }
    func cancel() { timer?.cancel(); timer = nil }
}
