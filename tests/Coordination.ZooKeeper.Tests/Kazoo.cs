using System.Diagnostics;
using System.Text.Json;

namespace Coordination.ZooKeeper.Tests;

/// <summary>
/// Runs python3-kazoo (an independent ZooKeeper client) as a child process with a small inline script that
/// prints one JSON line per step. Interop tests fail, never skip, when kazoo is missing.
/// </summary>
internal sealed class Kazoo : IAsyncDisposable
{
    /// <summary>
    /// Modes: <c>read HOSTS PATH...</c> prints {path: null | {data (base64), ephemeralOwner, version, children}};
    /// <c>hold HOSTS</c> creates /kdata, /keph (ephemeral), /kq/n- (ephemeral sequential and sequential), prints
    /// {session, seq}, waits for a line on stdin, closes its session and prints {closed}; <c>acl HOSTS USER PASSWORD</c>
    /// creates /ksecret readable only by digest USER:PASSWORD and prints {acl}; <c>probe HOSTS PATH...</c> (no
    /// credentials) tries, on each path, to read it, set its data, create an ephemeral child and delete it, and prints
    /// {path: {read, set, create, delete}} with "ok" or kazoo's exception name (NoAuthError...).
    /// </summary>
    private const string Script = """
        import sys, json, base64
        from kazoo.client import KazooClient
        from kazoo.security import make_digest_acl
        mode, hosts = sys.argv[1], sys.argv[2]
        zk = KazooClient(hosts=hosts, timeout=10)
        zk.start(timeout=20)
        def emit(o):
            print(json.dumps(o), flush=True)
        if mode == "read":
            out = {}
            for p in sys.argv[3:]:
                if zk.exists(p) is None:
                    out[p] = None
                    continue
                data, st = zk.get(p)
                out[p] = {"data": base64.b64encode(data or b"").decode(), "ephemeralOwner": st.ephemeralOwner,
                          "version": st.version, "children": sorted(zk.get_children(p))}
            emit(out)
        elif mode == "hold":
            zk.create("/kdata", b"\x00kazoo\xff")
            zk.create("/keph", b"e", ephemeral=True)
            zk.create("/kq")
            s1 = zk.create("/kq/n-", b"", ephemeral=True, sequence=True)
            s2 = zk.create("/kq/n-", b"", sequence=True)
            emit({"session": zk.client_id[0], "seq": [s1, s2]})
            sys.stdin.readline()
            zk.stop()
            zk.close()
            emit({"closed": True})
            sys.exit(0)
        elif mode == "probe":
            out = {}
            for p in sys.argv[3:]:
                r = {}
                for step, act in (("read", lambda: zk.get(p)), ("set", lambda: zk.set(p, b"kazoo was here")),
                                  ("create", lambda: zk.create(p + "/kazoo-intruder", b"", ephemeral=True)),
                                  ("delete", lambda: zk.delete(p))):
                    try:
                        act()
                        r[step] = "ok"
                    except Exception as e:
                        r[step] = type(e).__name__
                out[p] = r
            emit(out)
        elif mode == "acl":
            acl = make_digest_acl(sys.argv[3], sys.argv[4], all=True)
            zk.create("/ksecret", b"top secret", acl=[acl])
            emit({"acl": acl.id.id})
        zk.stop()
        zk.close()
        """;

    private readonly Process _process;

    private Kazoo(Process process) => _process = process;

    /// <summary>The interpreter: /usr/bin/python3 (Debian's, where python3-kazoo installs), or $COORD_KAZOO_PYTHON.</summary>
    public static string Python => Environment.GetEnvironmentVariable("COORD_KAZOO_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>Runs a mode to completion and returns its last JSON line.</summary>
    public static async Task<JsonElement> RunAsync(params string[] args)
    {
        await using var k = Start(args);
        return await k.FinishAsync(closeInput: true);
    }

    /// <summary>Starts a long-running mode (hold) and returns once it printed its first JSON line.</summary>
    public static async Task<(Kazoo Process, JsonElement First)> StartHoldingAsync(params string[] args)
    {
        var k = Start(args);
        try
        {
            return (k, await k.ReadLineAsync());
        }
        catch
        {
            await k.DisposeAsync();
            throw;
        }
    }

    private static Kazoo Start(string[] args)
    {
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            return new Kazoo(Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {Python}."));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Interop tests need {Python} with python3-kazoo (apt-get install python3-kazoo); starting it failed: {ex.Message}", ex);
        }
    }

    private async Task<JsonElement> ReadLineAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("kazoo printed nothing within 60 s.");
        }

        if (line is null)
        {
            throw await FailureAsync();
        }

        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>Closes stdin (a holding script then closes its session), returns the last JSON line and checks the exit code.</summary>
    public async Task<JsonElement> FinishAsync(bool closeInput = true)
    {
        if (closeInput)
        {
            await _process.StandardInput.WriteLineAsync();
            _process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = await _process.StandardOutput.ReadToEndAsync(cts.Token);
        await _process.WaitForExitAsync(cts.Token);
        if (_process.ExitCode != 0)
        {
            throw await FailureAsync();
        }

        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new InvalidOperationException("kazoo exited without printing a result.");
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    private async Task<Exception> FailureAsync()
    {
        var stderr = await _process.StandardError.ReadToEndAsync();
        if (stderr.Contains("No module named 'kazoo'", StringComparison.Ordinal))
        {
            return new InvalidOperationException($"python3-kazoo is not installed for {Python}; install it (apt-get install python3-kazoo) — the interop tests need an independent client.");
        }

        await _process.WaitForExitAsync();
        return new InvalidOperationException($"kazoo failed (exit {_process.ExitCode}): {stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
