// `toolrouter`: the command line.

import ArgumentParser
import Foundation

/// The root command; each subcommand is one job.
@main
struct ToolRouterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toolrouter",
        abstract: "Turn natural-language requests into validated tool calls with a small local model.",
        subcommands: [InspectCommand.self, TokenizeCommand.self, GenerateCommand.self, GrammarCommand.self, ServeCommand.self,
                      RouteCommand.self, CallCommand.self, DemoHandlersCommand.self, RenderPromptCommand.self, SynthCommand.self, EvalCommand.self, TrainCommand.self, MetricsCommand.self, BenchCommand.self, TeachCommand.self]
    )

    /// Picks OpenBLAS's kernels (which may re-execute the process once), then runs the command.
    static func main() {
        OpenBLASKernels.selectBeforeStart()
        main(nil)
    }
}

/// A failure to report to the user as one line, with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
