using Postern.Server.Commands;

return await PosternCommandLine.RunAsync(args);
