using SandboxBroker.Cli;

// sandbox-broker: exit codes 0 success, 1 failure, 2 usage error (see ExitCodes).
return await CliApp.RunAsync(args);
