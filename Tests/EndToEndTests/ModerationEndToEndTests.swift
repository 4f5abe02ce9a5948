import Foundation
import Testing

// Issue 14, end to end with the real `relay` and `chat` executables (line mode, loopback).

/// Polls until `file` exists (written by a client as it reads its input), up to `timeout` seconds.
private func waitForFile(_ file: URL, timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if FileManager.default.fileExists(atPath: file.path) { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
}

/// The lines of `output` that contain `text`.
private func lines(_ output: String, containing text: String) -> [Substring] {
    output.split(separator: "\n").filter { $0.contains(text) }
}

/// Specs/chat-protocol.md, section 4.8: with the real executables.
/// An operator (the lobby's creator) kicks, then bans, a UDP user and a TCP user: each is told, the
/// room is told who did it and why, and a banned user's JOIN is refused.
@Test(.timeLimit(.minutes(2)))
func anOperatorKicksAndBansAUDPUserAndATCPUser() throws {
    let (relay, port) = try startRelay()
    defer { relay.terminate() }
    let teacher = try startClient("teacher", port: port, arguments: ["--mode", "udp"])
    let udpUser = try startClient("ursula", port: port, arguments: ["--mode", "udp"])
    let tcpUser = try startClient("tom", port: port, arguments: ["--mode", "tcp"])

    teacher.send(["/kick ursula too loud", "/kick tom"])
    udpUser.waitForOutput("the kick", timeout: 15) { $0.contains("You have left #lobby [kicked by teacher: too loud]") }
    tcpUser.waitForOutput("the kick", timeout: 15) { $0.contains("You have left #lobby [kicked by teacher]") }
    tcpUser.waitForOutput("ursula's kick announced", timeout: 15) { $0.contains("[#lobby] teacher kicked ursula: too loud") }

    udpUser.send(["/join #lobby"])
    tcpUser.send(["/join #lobby"])
    teacher.waitForOutput("both back", timeout: 15) {
        lines($0, containing: "has joined #lobby").count >= 4
    }
    teacher.send(["/ban ursula 1h cheating", "/ban tom cheating too"])
    udpUser.waitForOutput("the ban", timeout: 15) { $0.contains("You have left #lobby [banned by teacher: cheating]") }
    tcpUser.waitForOutput("the ban", timeout: 15) { $0.contains("You have left #lobby [banned by teacher: cheating too]") }
    udpUser.send(["/join #lobby"])
    tcpUser.send(["/join #lobby"])
    udpUser.waitForOutput("the refused join", timeout: 15) { $0.contains("Error: You are banned from #lobby: cheating") }
    tcpUser.waitForOutput("the refused join", timeout: 15) { $0.contains("Error: You are banned from #lobby: cheating too") }
    teacher.send(["/bans"])
    teacher.waitForOutput("the ban list", timeout: 15) { lines($0, containing: "Ban in #lobby: id:").count == 2 }
    #expect(relay.standardError.contains("kicked ursula: too loud"))
    #expect(relay.standardError.contains("banned ursula"))

    for client in [teacher, udpUser, tcpUser] { client.closeInput() }
    for client in [teacher, udpUser, tcpUser] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name)") }
}

/// Specs/chat-protocol.md, section 4.8: with the real executables.
/// A moderated room (`/mode +m`) silences a member without voice: an error to them, nothing delivered
/// to the others; once voiced they are heard.
@Test(.timeLimit(.minutes(2)))
func aModeratedRoomSilencesAUserWithoutVoice() throws {
    let (relay, port) = try startRelay()
    defer { relay.terminate() }
    let teacher = try startClient("teacher", port: port, arguments: ["--mode", "tcp"])
    let listener = try startClient("lena", port: port, arguments: ["--mode", "udp"])
    let student = try startClient("sam", port: port, arguments: ["--mode", "tcp"])
    teacher.send(["/mode +m"])
    student.waitForOutput("the mode", timeout: 15) { $0.contains("[#lobby] teacher set mode +m") }
    student.send(["may I speak?"])
    student.waitForOutput("the refusal", timeout: 15) { $0.contains("Error: #lobby is moderated (+m)") }
    teacher.send(["quiet please"])
    listener.waitForOutput("the teacher's line", timeout: 15) { $0.contains("<teacher> quiet please") }
    teacher.send(["/voice sam"])
    student.waitForOutput("the voice", timeout: 15) { $0.contains("teacher gave voice to sam") }
    student.send(["thank you"])
    listener.waitForOutput("the voiced line", timeout: 15) { $0.contains("<sam> thank you") }
    #expect(!listener.standardOutput.contains("may I speak?"))
    #expect(!teacher.standardOutput.contains("may I speak?"))

    for client in [teacher, listener, student] { client.closeInput() }
    for client in [teacher, listener, student] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name)") }
}

/// `chat --log DIR` appends every room's lines, dated, to DIR/<room>.log; `/save FILE` writes the
/// room's scrollback; `/ignore NAME` hides a user's lines and is kept in XDG_CONFIG_HOME.
@Test(.timeLimit(.minutes(2)))
func logSaveAndIgnoreWorkInTheClient() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dgchat-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let environment = ["XDG_CONFIG_HOME": directory.appendingPathComponent("config").path,
                       "XDG_DATA_HOME": directory.appendingPathComponent("data").path]
    let (relay, port) = try startRelay()
    defer { relay.terminate() }
    let logs = directory.appendingPathComponent("logs")
    let reader = try ChildProcess("chat", ["--name", "rita", "--relay", "127.0.0.1:\(port)", "--log", logs.path],
                                  name: "rita", environment: environment)
    reader.waitForOutput("joining", timeout: 15) { $0.contains("You are now in #lobby") }
    let talker = try startClient("tess", port: port, arguments: ["--mode", "tcp"])
    let pest = try startClient("pete", port: port, arguments: ["--mode", "tcp"])
    let ignoreFile = directory.appendingPathComponent("config/datagram-chat/ignore")
    reader.send(["/ignore pete"])
    #expect(waitForFile(ignoreFile, timeout: 15))
    pest.send(["spam spam"])
    talker.send(["hello rita"])
    reader.waitForOutput("tess's line", timeout: 15) { $0.contains("<tess> hello rita") }
    let saved = directory.appendingPathComponent("saved.txt")
    reader.send(["/save \(saved.path)"])
    #expect(waitForFile(saved, timeout: 15))
    #expect(!reader.standardOutput.contains("spam spam"))
    let savedText = (try? String(contentsOf: saved, encoding: .utf8)) ?? ""
    #expect(savedText.contains("<tess> hello rita"), "\(savedText)")
    #expect(savedText.split(separator: "\n").allSatisfy { $0.count > 20 && $0.dropFirst(4).hasPrefix("-") }, "dated lines: \(savedText)")
    let logText = (try? String(contentsOf: logs.appendingPathComponent("#lobby.log"), encoding: .utf8)) ?? ""
    #expect(logText.contains("<tess> hello rita"), "\(logText)")
    #expect((try? String(contentsOf: ignoreFile, encoding: .utf8)) == "pete\n")
    for client in [reader, talker, pest] { client.closeInput() }
    for client in [reader, talker, pest] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name)") }
}

/// Specs/chat-protocol.md, section 4.8: with the real executables.
/// `relay --admin NAME` (repeatable): holding the name is not enough; after `/oper TOKEN` (the token
/// the relay printed) the administrator kills a user, who is told and does not come back; a wrong
/// token is refused; a bad name exits 64; `--help` lists the option.
@Test(.timeLimit(.minutes(2)))
func anAdministratorNamedAtStartKillsAUser() throws {
    let bad = try ChildProcess("relay", ["--admin", "no spaces"])
    #expect(bad.waitForExit(timeout: 10) == 64)
    #expect(bad.standardError.contains("'--admin'"))
    let help = try ChildProcess("relay", ["--help"])
    #expect(help.waitForExit(timeout: 10) == 0)
    #expect(help.standardOutput.contains("--admin NAME"))

    let (relay, port) = try startRelay(arguments: ["--admin", "root", "--admin", "dean"])
    defer { relay.terminate() }
    let owner = try startClient("owner", port: port, arguments: ["--mode", "tcp"])
    let dean = try startClient("dean", port: port, arguments: ["--mode", "udp"])
    let victim = try startClient("vic", port: port, arguments: ["--mode", "udp"])
    owner.send(["/kill vic because"])
    owner.waitForOutput("the refusal", timeout: 15) { $0.contains("Error: Only relay administrators can /kill") }
    dean.send(["/kill vic too soon"])
    dean.waitForOutput("the refusal before /oper", timeout: 15) { $0.contains("Error: Only relay administrators can /kill") }
    dean.send(["/oper 0123456789abcdef0123456789abcdef"])
    dean.waitForOutput("the wrong token", timeout: 15) { $0.contains("Error: Wrong administrator token") }
    let token = try administratorToken(of: relay)
    #expect(!relay.standardError.contains(token), "the token is never logged")
    dean.send(["/oper \(token)"])
    dean.waitForOutput("the rights", timeout: 15) { $0.contains("You are a relay administrator") }
    dean.send(["/kill vic enough"])
    victim.waitForOutput("the kill", timeout: 15) { $0.contains("You were disconnected by dean [enough]; not reconnecting") }
    owner.waitForOutput("the quit", timeout: 15) { $0.contains("vic has quit [killed by dean: enough]") }
    #expect(relay.standardError.contains("\"dean\" killed \"vic\""))
    victim.closeInput()
    #expect(victim.waitForExit(timeout: 20) != nil)
    #expect(lines(relay.standardError, containing: "\"vic\"").filter { $0.contains("joined") }.count == 1, "never reconnected")
    for client in [owner, dean] { client.closeInput() }
    for client in [owner, dean] { #expect(client.waitForExit(timeout: 20) == 0, "\(client.name)") }
}

/// Specs/chat-protocol.md, section 4.8: with the real executables.
/// A relay-wide ban (`/kline`) disconnects the user; an address ban refuses a newcomer's HELLO, and a
/// line-mode client says so and exits with status 1; `/unkline` lifts it.
@Test(.timeLimit(.minutes(2)))
func aRelayWideBanKeepsAUserOut() throws {
    let (relay, port) = try startRelay(arguments: ["--admin", "root"])
    defer { relay.terminate() }
    let root = try startClient("root", port: port, arguments: ["--mode", "tcp"])
    let mallory = try startClient("mallory", port: port, arguments: ["--mode", "tcp"])
    root.send(["/oper \(try administratorToken(of: relay))"])
    root.waitForOutput("the rights", timeout: 15) { $0.contains("You are a relay administrator") }
    root.send(["/kline mallory 1h spam"])
    mallory.waitForOutput("the kill", timeout: 15) { $0.contains("You were disconnected by root [banned from the relay: spam]") }
    root.waitForOutput("the announcement", timeout: 15) { $0.contains("root banned mallory (id:") }
    mallory.closeInput()
    _ = mallory.waitForExit(timeout: 20)
    root.send(["/kline 127.0.0.0/8 10m everyone here"])
    root.waitForOutput("the address ban", timeout: 15) { $0.contains("root banned 127.0.0.0/8 from the relay for 10 min") }
    let eve = try ChildProcess("chat", ["--name", "eve", "--relay", "127.0.0.1:\(port)"], name: "eve")
    #expect(eve.waitForExit(timeout: 15) == 1)
    #expect(eve.standardError.contains("Error: the relay refused 'eve': You are banned from this relay: everyone here"), "\(eve.standardError)")
    root.send(["/unkline 127.0.0.0/8", "/klines"])
    root.waitForOutput("the relay's ban list", timeout: 15) { $0.contains("Ban in the relay: id:") }
    #expect(!root.standardOutput.contains("Ban in the relay: 127.0.0.0/8"))
    root.closeInput()
    #expect(root.waitForExit(timeout: 20) == 0)
}

/// The token `relay --admin` printed on standard output ("administrator token: TOKEN (...)").
func administratorToken(of relay: ChildProcess) throws -> String {
    relay.waitForOutput("the administrator token", timeout: 10) { $0.contains("administrator token: ") }
    let line = relay.standardOutput.split(separator: "\n").first { $0.hasPrefix("administrator token: ") } ?? ""
    let token = String(line.dropFirst("administrator token: ".count).prefix { $0 != " " })
    return try #require(token.count == 32 ? token : nil, "no token in '\(line)'")
}
