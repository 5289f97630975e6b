using KvnDb.Cli;

using var cancellation = new CommandCancellation();
using var stdin = Console.OpenStandardInput();
using var stdout = Console.OpenStandardOutput();
return await ConsoleApp.RunAsync(args,
    new ConsoleInput(stdin, isTerminal: !Console.IsInputRedirected),
    new ConsoleOutput(stdout, isTerminal: !Console.IsOutputRedirected),
    Console.Error, Environment.GetEnvironmentVariable, cancellation, CancellationToken.None);
