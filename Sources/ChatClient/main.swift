import Chat
import ChatClientCore
import CommandLineSupport
import Datagram
import Foundation
import LinkSimulator
import DatagramRuntime
import Transport

let options = parseClientOptions(Array(CommandLine.arguments.dropFirst())).optionsOrExit()

let relay: SocketAddress
do {
    relay = try SocketAddress(host: options.relayHost, port: options.relayPort)
} catch {
    writeOut("Error: \(error)\n", to: .standardError)
    exit(1)
}

var configuration = ChatSessionConfiguration(name: options.name, relay: relay,
                                             transport: options.mode == .udp ? .udp : .tcp)
configuration.rooms = [options.room]
configuration.isTracing = options.isTracing
configuration.isPlaintext = options.isPlaintext
configuration.linkSeed = options.seed ?? SystemRandom.seed()
if options.lossPercent > 0 || options.delay > .zero {
    var conditions = LinkConditions()
    conditions.loss = options.lossPercent / 100
    conditions.delay = options.delay
    configuration.linkConditions = conditions
}

// Identity (Specs/chat-protocol.md section 4.10): the key for end-to-end private messages (and, with
// the Noise transport, for the handshake), the contacts pinned so far, and the relay pin check.
let identityPath = options.identityFile ?? IdentityPaths.clientIdentity
do {
    let (identity, created) = try LocalIdentity.loadOrCreate(at: identityPath)
    let contacts = (try? PinFile(path: IdentityPaths.knownContacts, kind: .contacts))?.keys ?? KnownKeys(kind: .contacts)
    configuration.client.identity = ClientIdentity(keyPair: identity.keyPair, crypto: LocalIdentity.crypto, contacts: contacts,
                                                   pinDate: SecretFiles.today())
    configuration.staticKeyPair = identity.keyPair
    let relayPins = PinFile.relayPinCheck(path: IdentityPaths.knownRelays, acceptNew: options.acceptsNewRelayKey)
    configuration.pinCheck = { address, key in
        let decision = relayPins(address, key)
        if let refusal = PinFile.relayKeyChangedMessage(address: address, decision: decision, path: IdentityPaths.knownRelays) {
            return .reject(refusal)
        }
        return .accept
    }
    if options.isPlaintext {
        // No handshake, so the relay knows no key for this session: private messages go plain.
        configuration.client.identity = nil
    }
    if created {
        writeOut("Created your identity key \(identity.fingerprint) in \(identityPath)\n", to: .standardError)
    }
} catch {
    writeOut("Error: \(error)\n", to: .standardError)
    exit(1)
}

let terminal = Terminal.isTerminal(1) ? Terminal() : nil  // interactive only when both ends are a terminal
let interactiveConsole = terminal.map { InteractiveConsole(terminal: $0, prompt: "[\(options.room)] ") }
let lineConsole = terminal == nil ? LineModeConsole() : nil
let console: any ChatConsole = interactiveConsole ?? lineConsole!
let logger = Logger(label: "chat", level: options.logLevel) { line in console.printDiagnostic(line) }
let session = ChatSession(configuration: configuration)
let app = ChatApp(options: options, session: session, console: console, logger: logger,
                  isInteractive: interactiveConsole != nil)

if configuration.linkConditions != nil {
    let loss = options.lossPercent == options.lossPercent.rounded() ? "\(Int(options.lossPercent))" : "\(options.lossPercent)"
    let delay = options.delay.wholeMicroseconds / 1000
    console.printDiagnostic(ChatRenderer.status(
        "Simulated link: \(loss) % loss, \(delay) ms delay, each direction; "
            + "seed \(configuration.linkSeed) (rerun with --seed \(configuration.linkSeed))", time: WallClock.timeOfDay()))
}

do {
    try session.start { event in app.handle(event) }
} catch {
    writeOut("Error: cannot open a UDP socket: \(error)\n", to: .standardError)
    exit(1)
}
app.startStatusTimer()

if let interactiveConsole {
    interactiveConsole.start(onLine: { line in app.handleLine(line) },
                             onQuit: { reason in app.leave(reason: reason, status: 0) })
} else if let lineConsole {
    lineConsole.start(onLine: { line in app.handleLine(line) }, onEndOfInput: { app.endOfInput() })
    let signals = [SIGINT, SIGTERM, SIGHUP].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: session.queue.dispatchQueue)
        source.setEventHandler { app.leave(reason: "signal \(number)", status: 128 + number) }
        source.resume()
        return source
    }
    withExtendedLifetime(signals) { dispatchMain() }
}
dispatchMain()
