import CommandLineSupport
import Foundation
import DatagramRuntime
import Transport

/// Where the client's lines go and where its input comes from.
protocol ChatConsole: Sendable {
    /// Prints one line of output (a received message, a notice, a status line).
    func print(_ line: String)
    /// Prints one line meant for standard error in line mode (the interactive console shows it too).
    func printDiagnostic(_ line: String)
    /// Changes what the prompt shows (the current room).
    func setPrompt(_ prompt: String)
    /// Stops reading input and restores the terminal.
    func shutDown()
}

/// Writes bytes to a file descriptor without stdio buffering, so lines reach pipes at once.
func writeOut(_ text: String, to handle: FileHandle = .standardOutput) {
    handle.write(Data(text.utf8))
}

/// The interactive console: the terminal in raw mode, a line editor at the bottom, and every printed
/// line drawn above the line being typed.
///
/// All of its state lives on `queue`: input handling and printing are both `queue.async`, so a line
/// printed by the session's queue never tears the line being typed.
final class InteractiveConsole: ChatConsole, @unchecked Sendable { // state guarded by `queue`
    private let queue = DispatchQueue(label: "chat.console")
    private let terminal: Terminal
    private var editor: LineEditor
    private var reader: InputReader?
    private var isShutDown = false

    init(terminal: Terminal, prompt: String) {
        self.terminal = terminal
        self.editor = LineEditor(prompt: prompt)
    }

    /// Enters raw mode and starts reading keys. `onLine` gets each submitted line, `onQuit` is called
    /// on Ctrl-C, on Ctrl-D with an empty line, and on SIGTERM/SIGHUP/SIGINT (terminal restored first).
    func start(onLine: @escaping @Sendable (String) -> Void, onQuit: @escaping @Sendable (String) -> Void) {
        terminal.enableRawMode()
        terminal.restoreOnSignals(queue: queue) { number in onQuit("signal \(number)") }
        queue.async { [self] in
            redraw()
            reader = InputReader(queue: queue, onBytes: { [self] bytes in
                handle(bytes, onLine: onLine, onQuit: onQuit)
            }, onEndOfInput: { onQuit("end of input") })
        }
    }

    private func handle(_ bytes: [UInt8], onLine: (String) -> Void, onQuit: (String) -> Void) {
        guard !isShutDown else { return }
        for action in editor.handle(bytes) {
            switch action {
            case .redraw: redraw()
            case .submit(let line): redraw(); onLine(line)
            case .interrupt: onQuit("interrupted")
            case .endOfInput: onQuit("end of input")
            }
        }
    }

    /// Draws the prompt line: to column 0, clear it, the visible text, then the cursor column.
    private func redraw() {
        guard !isShutDown else { return }
        let (line, column) = editor.visibleLine(width: terminal.width)
        writeOut("\r\u{1B}[K" + line + "\r" + (column > 0 ? "\u{1B}[\(column)C" : ""))
    }

    func print(_ line: String) {
        queue.async { [self] in
            guard !isShutDown else { writeOut(line + "\n"); return }
            writeOut("\r\u{1B}[K" + line + "\n")
            redraw()
        }
    }

    func printDiagnostic(_ line: String) { print(line) }

    func setPrompt(_ prompt: String) {
        queue.async { [self] in
            editor.prompt = prompt
            redraw()
        }
    }

    func shutDown() {
        queue.sync {
            guard !isShutDown else { return }
            writeOut("\r\u{1B}[K")
            isShutDown = true
            reader?.cancel()
            reader = nil
            terminal.restore()
        }
    }
}

/// Line mode, for scripts and tests: each input line is submitted as typed, output lines go to
/// standard output and diagnostics to standard error, unadorned.
///
/// Standard input is read by one thread with blocking reads: end of input on a pipe is then seen
/// reliably, right after the last line.
final class LineModeConsole: ChatConsole, Sendable {
    /// Starts reading standard input; `onLine` gets each line (without its newline), then
    /// `onEndOfInput` once, after the last line. Both run on the reading thread, in order.
    func start(onLine: @escaping @Sendable (String) -> Void, onEndOfInput: @escaping @Sendable () -> Void) {
        let thread = Thread {
            while let line = readLine(strippingNewline: true) {
                onLine(line.hasSuffix("\r") ? String(line.dropLast()) : line)
            }
            onEndOfInput()
        }
        thread.name = "chat.stdin"
        thread.start()
    }

    func print(_ line: String) { writeOut(line + "\n") }
    func printDiagnostic(_ line: String) { writeOut(line + "\n", to: .standardError) }
    func setPrompt(_ prompt: String) {}
    func shutDown() {}
}
