import Chat
import ChatClientCore
import Foundation
import DatagramRuntime
import Transport

/// The chat client: reads lines from a console, turns them into requests on a `ChatSession`, and
/// prints what the session reports. Interactive on a terminal, line mode otherwise.
final class ChatApp: @unchecked Sendable { // mutable state guarded by `lock`
    let options: ClientOptions
    let session: ChatSession
    let console: any ChatConsole
    let logger: Logger
    let isInteractive: Bool
    private let lock = NSLock()
    private var currentRoom: String
    private var shownStatus: String?
    private var isLeaving = false
    private var hasJoined = false
    private var lastAttemptFailure: String?
    private var statusTimer: DispatchSourceTimer?
    /// Lines of line mode the session refused (too long, or closed), named at the end of input.
    private var refused: [String] = []
    /// `/ignore`'s names (kept in the configuration directory).
    private var ignored: IgnoreList
    /// What was shown, per room and conversation, for `/save` and `--log`.
    private var transcripts: Transcripts
    /// The conversation `/save` writes when the last thing shown was private (nil: the current room).
    private var lastConversation: String?
    /// The last refusal before WELCOME was ERROR `banned` (a relay-wide ban), not a name problem.
    private var isBannedFromRelay = false
    /// File transfer progress shown (ChatApp+Files.swift).
    let fileProgress = FileProgress()
    /// `/receipts on|off`: ticks for private messages, by message id (the last 256 sent).
    private var showsReceipts = true
    private var sentPrivates: [UInt64: (to: String, text: String)] = [:]
    private var sentPrivateOrder: [UInt64] = []

    init(options: ClientOptions, session: ChatSession, console: any ChatConsole, logger: Logger, isInteractive: Bool) {
        self.options = options
        self.session = session
        self.console = console
        self.logger = logger
        self.isInteractive = isInteractive
        self.currentRoom = options.room
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].compactMap { ProcessInfo.processInfo.environment[$0] }.first { !$0.isEmpty } ?? ""
        Ticks.isASCII = !(locale.lowercased().contains("utf-8") || locale.lowercased().contains("utf8"))
        self.ignored = IgnoreList(file: ClientFiles.configurationDirectory().appendingPathComponent("ignore"))
        self.transcripts = Transcripts(logDirectory: options.logDirectory.map { URL(fileURLWithPath: $0) })
    }

    private var room: String {
        lock.withLock { currentRoom }
    }

    func time() -> String { WallClock.timeOfDay() }

    /// Remembers a private message sent as `id`, for its ticks (the last 256).
    func recordSentPrivate(_ id: UInt64, to name: String, text: String) {
        lock.withLock {
            sentPrivates[id] = (name, SafeText.sanitized(String(text.prefix(40))))
            sentPrivateOrder.append(id)
            if sentPrivateOrder.count > 256 { sentPrivates[sentPrivateOrder.removeFirst()] = nil }
        }
    }

    // MARK: Events

    func handle(_ event: ChatSessionEvent) {
        switch event {
        case .received(.delivered(let to, let id)):
            guard let sent = lock.withLock({ () -> (to: String, text: String)? in
                guard showsReceipts else { return nil }
                return sentPrivates.removeValue(forKey: id)
            }) else { break }
            status("\(Ticks.delivered) \(SafeText.sanitized(to)) \"\(sent.text)\": delivered")
        case .received(let message):
            if case .notice(let notice) = message, notice.kind == .roomParted { roomParted(notice.room) }
            if case .welcome = message, lock.withLock({ hasJoined }) { return }
            if case .error(.banned, _, _) = message, !lock.withLock({ hasJoined }) { lock.withLock { isBannedFromRelay = true } }
            if let speaker = message.speaker, lock.withLock({ ignored.contains(speaker) }) { return }
            for line in ChatRenderer.render(message, time: time(), currentRoom: room) { console.print(line) }
            if let target = message.transcriptTarget {
                let dated = ChatRenderer.render(message, time: ClientFiles.timestamp(), currentRoom: target)
                lock.withLock {
                    for line in dated { transcripts.record(line, target: target) }
                    if case .privateMessage = message { lastConversation = target }
                }
            }
        case .acknowledged(let id):
            guard let sent = lock.withLock({ showsReceipts ? sentPrivates[id] : nil }) else { break }
            status("\(Ticks.stored) \(sent.to) \"\(sent.text)\": the relay has it")
        case .connection(let change):
            handle(change)
        case .trace(let fate):
            console.print("\(time()) ~ \(PacketTrace.describe(fate))")
        case .warning(let text) where text.hasPrefix("not sent: "):
            // A request the session refused to send (over the chat message limit): shown as an error,
            // and named at the end of line mode, which then exits 1.
            console.print(ChatRenderer.error(text, time: time()))
            noteRefused(String(text.dropFirst("not sent: ".count)))
        case .warning(let text):
            logger.warning(text)
        case .identity(let event):
            handle(event)
        case .file(let event):
            handleFile(event)
        }
    }

    private func handle(_ change: ConnectionChange) {
        switch change {
        case let .joined(name, isReconnection, resent):
            lock.withLock { hasJoined = true }
            logger.info("joined as \(name)" + (options.isPlaintext ? " (plaintext session)" : ""))
            if options.isPlaintext, !isReconnection {
                status("PLAINTEXT session as \(name): nothing is encrypted (--plaintext); anyone on the path can read it")
            }
            if isReconnection {
                status("Reconnected to \(options.relayHost):\(options.relayPort) as \(name)"
                    + (resent > 0 ? "; sending \(resent) recent message\(resent == 1 ? "" : "s") again (the others show only what they missed)" : ""))
            }
        case .refused(let reason) where lock.withLock({ isBannedFromRelay }):
            if isInteractive {
                status("This relay has banned you; /quit to leave")
            } else {
                console.printDiagnostic("Error: the relay refused '\(options.name)': \(reason)")
                finish(status: 1)
            }
        case .refused(let reason):
            if isInteractive {
                status("Choose another name with /nick NAME")
            } else {
                console.printDiagnostic("Error: the relay refused the name '\(options.name)': \(reason)")
                finish(status: 1)
            }
        case .lost(let reason):
            status("Connection lost: \(reason); reconnecting…")
        case .attemptFailed(let reason):
            logger.info("connection attempt failed: \(reason)")
            let isNew = lock.withLock { () -> Bool in
                defer { lastAttemptFailure = reason }
                return lastAttemptFailure != reason
            }
            if isNew { status("Not connected: \(reason); trying again") }
        case .reconnecting(let attempt):
            logger.info("reconnecting (attempt \(attempt))")
        case .closed:
            break
        case .sessionTaken(let name):
            // Specs/chat-protocol.md, section 4.3: another run holds the secret; never take it back.
            logger.info("session \(name) taken by another connection; not reconnecting")
            if isInteractive {
                status("Another connection took the session of \(name) (it has this session's secret); "
                    + "not reconnecting. /quit to leave")
            } else {
                console.printDiagnostic("Error: another run took the session of '\(name)' "
                    + "(it presented this session's secret); not reconnecting")
                finish(status: 1)
            }
        case .handshakeFailed(let reason):
            // Refused for good (a changed relay key, or a relay without encryption): retrying would
            // meet the same answer, so the client stops in both modes (chat --help: status 3).
            stopRefused("encrypted handshake with \(options.relayHost):\(options.relayPort) failed: \(reason)")
        case .refusedForGood(let reason):
            stopRefused("\(options.relayHost):\(options.relayPort) refused this client: \(reason)")
        }
    }

    /// The relay refused this client in a way no retry changes: says what happened and what to do,
    /// and exits with `refusedForGoodStatus`, interactive or not.
    private func stopRefused(_ text: String) {
        logger.info("\(text); not reconnecting")
        console.printDiagnostic("Error: \(text). Not reconnecting.")
        finish(status: Self.refusedForGoodStatus)
    }

    func status(_ text: String) {
        let line = ChatRenderer.status(text, time: time())
        if isInteractive { console.print(line) } else { console.printDiagnostic(line) }
    }

    private func roomParted(_ parted: String) {
        lock.withLock {
            if currentRoom == parted { currentRoom = session.rooms.last { $0 != parted } ?? options.room }
        }
        updatePrompt()
    }

    /// Shows the mosh-style status: in the prompt when interactive (updated as the seconds count),
    /// on standard error otherwise (only when it starts or changes kind).
    func refreshStatus() {
        let status = session.connectionStatus
        let previous = lock.withLock { () -> String? in
            defer { shownStatus = status }
            return shownStatus
        }
        guard previous != status else { return }
        if isInteractive {
            updatePrompt()
        } else if let status, Self.kind(of: status) != Self.kind(of: previous) {
            console.printDiagnostic(ChatRenderer.status(status, time: time()))
        }
    }

    /// A status without its numbers: `Last contact seconds ago.`
    private static func kind(of status: String?) -> String? {
        status.map { String($0.filter { !$0.isNumber }) }
    }

    private func updatePrompt() {
        let (room, status) = lock.withLock { (currentRoom, shownStatus) }
        let files = fileProgress.prompt.map { "{\($0)} " } ?? ""
        console.setPrompt(status.map { "[\(room)] (\($0)) \(files)" } ?? "[\(room)] \(files)")
    }

    /// Redraws the prompt (file progress changed).
    func refreshPrompt() { updatePrompt() }

    /// Refreshes the connection status every half second.
    func startStatusTimer() {
        let timer = DispatchSource.makeTimerSource(queue: session.queue.dispatchQueue)
        timer.schedule(deadline: .now() + .milliseconds(500), repeating: .milliseconds(500))
        timer.setEventHandler { [weak self] in
            self?.refreshStatus()
            self?.refreshFileProgress()
        }
        timer.resume()
        lock.withLock { statusTimer = timer }
    }

    // MARK: Input

    func handleLine(_ line: String) {
        let command: ClientCommand?
        do {
            command = try ClientCommand.parse(line)
        } catch {
            console.print(ChatRenderer.error(error.description, time: time()))
            return
        }
        guard let command else { return }
        perform(command)
    }

    private func perform(_ command: ClientCommand) {
        switch command {
        case .say(let text): say(text, isAction: false)
        case .action(let text): say(text, isAction: true)
        case let .privateMessage(to, text): sendPrivate(text, to: to)
        case .join(let room):
            session.send(.joinRoom(room))
            lock.withLock { currentRoom = room }
            updatePrompt()
        case .part(let room):
            session.send(.partRoom(room ?? self.room))
        case .list: session.send(.listRooms)
        case .who(let room): session.send(.who(room: room ?? ""))
        case .nick(let name): session.send(.nick(name))
        case .quit(let reason): quit(reason: reason ?? "leaving")
        case .help: printHelp()
        case .setLoss(let percent): setLoss(percent)
        case .setTracing(let isOn): setTracing(isOn)
        case let .joinWithKey(room, key):
            session.send(.joinRoomWithKey(room: room, key: key))
            lock.withLock { currentRoom = room }
            updatePrompt()
        case let .moderate(request, isRelayWide):
            var request = request
            if !isRelayWide { request.room = room }
            session.send(.moderate(request))
        case .ignore(let name): ignore(name)
        case .unignore(let name): unignore(name)
        case .save(let file): save(to: file)
        case .whois(let name): session.whois(name)
        case .trust(let name):
            if !session.trust(name) { status("No changed key is waiting for \(SafeText.sanitized(name)) (/whois \(SafeText.sanitized(name)) shows its key)") }
        case .sendFile, .acceptFile, .rejectFile, .transfers, .cancelFile: performFile(command)
        case .setReceipts(let isOn):
            session.setReceipts(isOn)
            lock.withLock { showsReceipts = isOn }
            status(isOn ? "Receipts on: \(Ticks.stored) the relay has your private message, \(Ticks.delivered) it was shown to its recipient"
                        : "Receipts off: no ticks, and no receipts sent for private messages you get")
        case let .account(request): session.send(.account(request))
        case let .history(count, secondsAgo):
            let since = secondsAgo.map { UInt64(max(0, WallClock.millisecondsSinceEpoch() - Int64($0) * 1_000)) } ?? 0
            session.send(.history(room: room, count: UInt16(count), since: since))
        case .stats:
            for line in PacketTrace.report(session.statistics, transport: session.transportStatistics,
                                                   linkConditions: session.linkConditions) {
                console.print("\(time()) -!- \(line)")
            }
        }
    }

    /// Own lines are printed before the request goes out, so they come before its packet trace.
    private func say(_ text: String, isAction: Bool) {
        let room = self.room
        if isInteractive {
            console.print(ChatRenderer.ownMessage(name: session.name, text: text, flags: isAction ? .action : [],
                                                  room: room, currentRoom: room, time: time()))
        }
        recordOwn(ChatRenderer.ownMessage(name: session.name, text: text, flags: isAction ? .action : [],
                                          room: room, currentRoom: room, time: ClientFiles.timestamp()), target: room)
        waitForWindow()
        do {
            try session.say(text, in: room, isAction: isAction)
        } catch {
            console.print(ChatRenderer.error("not sent: \(error)", time: time()))
            noteRefused("SAY \(room) \"\(SafeText.sanitized(text))\": \(error)")
        }
    }

    /// Line mode's backpressure: while the session's window is full, the reading thread waits here,
    /// so standard input is not read (and nothing is refused) until the relay acknowledges more.
    private func waitForWindow() {
        guard !isInteractive, session.isWindowFull else { return }
        let opened = DispatchSemaphore(value: 0)
        session.whenWindowOpens { opened.signal() }
        opened.wait()
    }

    func noteRefused(_ what: String) {
        guard !isInteractive else { return }
        lock.withLock { refused.append(what) }
    }

    private func sendPrivate(_ text: String, to name: String) {
        if isInteractive { console.print(ChatRenderer.ownPrivateMessage(to: name, text: text, time: time())) }
        recordOwn(ChatRenderer.ownPrivateMessage(to: name, text: text, time: ClientFiles.timestamp()), target: name)
        waitForWindow()
        do {
            if let id = try session.sendSealedPrivate(text, to: name) {
                recordSentPrivate(id, to: name, text: text)
            }
        } catch {
            console.print(ChatRenderer.error("not sent: \(error)", time: time()))
            noteRefused("PRIVATE to \(name) \"\(SafeText.sanitized(text))\": \(error)")
        }
    }

    private func setLoss(_ percent: Double) {
        guard session.setLoss(percent: percent) else {
            status("/loss simulates loss under Datagram (udp mode). TCP hides loss inside the kernel; "
                + "to make a TCP link lossy, the network itself must drop packets (see compare --kernel-loss)")
            return
        }
        let formatted = percent == percent.rounded() ? String(Int(percent)) : String(percent)
        status("Simulated loss now \(formatted) % in each direction (seed \(session.configuration.linkSeed))")
    }

    private func setTracing(_ isOn: Bool) {
        guard session.setTracing(isOn) else {
            status("/trace shows Datagram packet fates (udp mode); TCP's segments are the kernel's business "
                + "(try tcpdump -i lo port \(options.relayPort))")
            return
        }
        status(isOn ? "Tracing packets: sent, acked, LOST, resend, PTO, dup" : "Tracing off")
    }

    private func recordOwn(_ line: String, target: String) {
        lock.withLock {
            transcripts.record(line, target: target)
            if !target.hasPrefix("#") { lastConversation = target }
        }
    }

    private func ignore(_ name: String?) {
        guard let name else {
            let names = lock.withLock { ignored.names }
            return status(names.isEmpty ? "Ignoring nobody" : "Ignoring: \(names.joined(separator: " "))")
        }
        do {
            try lock.withLock { try ignored.add(name) }
            status("Ignoring \(name) (kept in \(ClientFiles.configurationDirectory().path)/ignore)")
        } catch {
            status("Ignoring \(name) for now; could not write the ignore list: \(error.localizedDescription)")
        }
    }

    private func unignore(_ name: String) {
        let removed = (try? lock.withLock { try ignored.remove(name) }) ?? false
        status(removed ? "No longer ignoring \(name)" : "\(name) was not ignored")
    }

    /// `/save [FILE]`: the conversation shown last if it was private, else the current room.
    private func save(to file: String?) {
        let target = lock.withLock { lastConversation } ?? room
        let url = file.map { URL(fileURLWithPath: $0) } ?? ClientFiles.dataDirectory().appendingPathComponent(
            "\(ClientFiles.fileName(for: target))-\(ClientFiles.timestamp().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: ":", with: "")).txt")
        do {
            let count = try lock.withLock { try transcripts.save(target, to: url) }
            status("Saved \(count) line\(count == 1 ? "" : "s") of \(target) to \(url.path)")
        } catch {
            status("Could not save \(target) to \(url.path): \(error.localizedDescription)")
        }
    }

    private func printHelp() {
        for entry in ClientCommand.usage {
            let padded = entry.usage + String(repeating: " ", count: max(1, 18 - entry.usage.count))
            console.print("\(time()) -!- \(padded)\(entry.summary)")
        }
        console.print("\(time()) -!- Anything else is said in the current room (\(room)); //text says /text")
    }

    // MARK: Leaving

    /// Line mode's end of input: wait for acknowledgements (bounded), leave, exit 0 or 1 (1 when a
    /// line was refused or a message was not acknowledged; each is named).
    func endOfInput() {
        waitForFileTransfers { [self] in drainAndLeave() }
    }

    private func drainAndLeave() {
        session.waitUntilAllAcknowledged(timeout: options.drainTimeout) { [self] isAcknowledged in
            let refused = lock.withLock { self.refused }
            if !refused.isEmpty {
                console.printDiagnostic("Error: \(refused.count) line\(refused.count == 1 ? " was" : "s were") not sent:")
                for line in refused.prefix(20) { console.printDiagnostic("  \(line)") }
                if refused.count > 20 { console.printDiagnostic("  and \(refused.count - 20) more") }
            }
            let isDone = isAcknowledged && refused.isEmpty
            if !isAcknowledged {
                if let status = session.connectionStatus { console.printDiagnostic(ChatRenderer.status(status, time: time())) }
                let pending = session.pendingMessages
                console.printDiagnostic("Error: \(pending.count) message\(pending.count == 1 ? " was" : "s were") "
                    + "not acknowledged by the relay within \(options.drainTimeout):")
                for message in pending.prefix(20) { console.printDiagnostic("  \(message)") }
            }
            leave(reason: "end of input", status: isDone ? 0 : 1)
        }
    }

    /// `/quit`: in line mode, first wait for acknowledgements like the end of input does.
    func quit(reason: String) {
        if isInteractive { leave(reason: reason, status: 0) } else { endOfInput() }
    }

    /// Sends QUIT, waits briefly for it to reach the relay, and exits with `status` (1 when something
    /// typed was never acknowledged, which is then named).
    func leave(reason: String, status: Int32) {
        let isFirst = lock.withLock { () -> Bool in
            defer { isLeaving = true }
            return !isLeaving
        }
        guard isFirst else { return }
        session.leave(reason: reason) { [self] in
            let pending = session.pendingMessages.filter { $0.messageID != 0 }
            guard isInteractive, !pending.isEmpty else { return finish(status: status) }
            console.shutDown()
            writeOut("Error: \(pending.count) message\(pending.count == 1 ? " was" : "s were") not delivered:\n"
                + pending.map { "  \($0)\n" }.joined(), to: .standardError)
            exit(1)
        }
    }

    /// The exit status when the relay refused this client for good (documented in `chat --help`).
    static let refusedForGoodStatus: Int32 = 3

    func finish(status: Int32) {
        console.shutDown()
        exit(status)
    }
}
