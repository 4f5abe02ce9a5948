import Testing

/// The relay's limit options (README, "Relay"): bad values exit 64 with a hint; `--help` lists them.
@Test func badLimitValuesExitWith64AndSayWhatIsExpected() throws {
    let cases: [([String], String)] = [
        (["--rate", "fast"], "expected MSGS or MSGS/BYTES"),
        (["--rate", "50/10"], "expected MSGS or MSGS/BYTES"),
        (["--rate", "0"], "expected MSGS or MSGS/BYTES"),
        (["--max-per-address", "0"], "'--max-per-address': expected a whole number from 1"),
        (["--max-handshakes-per-address", "x"], "'--max-handshakes-per-address': expected a whole number"),
        (["--hello-timeout", "-1"], "'--hello-timeout': expected a number"),
        (["--max-rooms-per-user", "17"], "'--max-rooms-per-user': expected a whole number from 1 to 16"),
        (["--stall-timeout", "never"], "'--stall-timeout': expected a number"),
        (["--max-rooms", "0"], "'--max-rooms': expected a whole number"),
    ]
    for (arguments, hint) in cases {
        let child = try ChildProcess("relay", arguments)
        #expect(child.waitForExit(timeout: 10) == 64, "\(arguments)")
        #expect(child.standardError.contains(hint), "\(arguments): \(child.standardError)")
        #expect(child.standardError.contains("See 'relay --help'"))
        #expect(child.standardOutput.isEmpty)
    }
}

@Test func relayHelpListsTheLimitsWithTheirDefaults() throws {
    let child = try ChildProcess("relay", ["--help"])
    #expect(child.waitForExit(timeout: 10) == 0)
    for option in ["--max-per-address N", "--max-handshakes-per-address N", "--hello-timeout SECONDS", "--max-rooms N",
                   "--max-rooms-per-user N", "--stall-timeout SECONDS", "--rate MSGS[/BYTES]"] {
        #expect(child.standardOutput.contains(option), "\(option)")
    }
    #expect(child.standardOutput.contains("50/200000"))
}
