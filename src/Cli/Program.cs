using KvnDb.Cli;

return await ConsoleApp.RunAsync(args, Console.In, Console.Out, Console.Error);
