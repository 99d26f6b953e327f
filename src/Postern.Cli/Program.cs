using Postern.Cli;

return await PosternCommandLine.RunAsync(args, Terminal.FromConsole());
