using Microsoft.CodeAnalysis;

namespace Coordination.Aspects.Generator;

/// <summary>The diagnostics of the [Singleton] aspect. Ids are stable: CSG001-CSG010.</summary>
internal static class SingletonDiagnostics
{
    private const string Category = "Coordination.Singleton";

    public static readonly DiagnosticDescriptor UnknownPlaceholder = new(
        "CSG001",
        "Key placeholder names no parameter",
        "Placeholder '{0}' in the [Singleton] key '{1}' of '{2}' {3}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Each placeholder of a [Singleton] key must name a parameter of the method, optionally followed by readable properties or fields ({order.Id}).");

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        "CSG002",
        "[Singleton] method must be asynchronous",
        "[Singleton] method '{0}' returns '{1}'; it must return Task, Task<T>, ValueTask or ValueTask<T>, because acquiring a distributed lock is network I/O and waiting for it inside a synchronous method would block a thread on asynchronous work (sync-over-async, prone to thread-pool starvation and deadlocks)",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidTimeout = new(
        "CSG003",
        "Invalid [Singleton] timeout",
        "[Singleton] on '{0}' has an invalid timeout: {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SkipNeedsDefaultableResult = new(
        "CSG004",
        "OnContention = Skip needs a result that can be default",
        "[Singleton] on '{0}' skips on contention, which returns default, but the result type '{1}' is a non-nullable reference type or an unconstrained type parameter; return a nullable or value type, or use OnContention = Throw",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnguardedCall = new(
        "CSG005",
        "Call to a [Singleton] method is not guarded",
        "This {0} of [Singleton] method '{1}' runs without the lock: {2}",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The [Singleton] aspect rewrites direct calls at compile time; calls through delegates, base calls and calls the generated code cannot make run unguarded.");

    public static readonly DiagnosticDescriptor InvalidKeyTemplate = new(
        "CSG006",
        "Invalid [Singleton] key template",
        "The [Singleton] key '{0}' of '{1}' is invalid: {2}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedMethod = new(
        "CSG007",
        "Method shape not supported by [Singleton]",
        "[Singleton] cannot guard '{0}': {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnguardedThroughBase = new(
        "CSG008",
        "Calls through the interface or base method are not guarded",
        "[Singleton] on '{0}' guards only calls made through '{1}'; calls through '{2}' dispatch here without the lock (interceptors rewrite calls by the method they bind to), so mark '{2}' with the same [Singleton] as well",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SelfCall = new(
        "CSG009",
        "[Singleton] method calls itself",
        "[Singleton] method '{0}' calls itself; when both calls expand to the same key the inner call waits for the lock the outer call holds and never gets it (the locks are not re-entrant)",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidConcurrency = new(
        "CSG010",
        "Invalid [Singleton] permits or access",
        "[Singleton] on '{0}' has invalid MaxConcurrency or Access: {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "MaxConcurrency is at least 1 (1 is the lock, N a semaphore of N permits); Access Read or Write makes a reader-writer lock and takes no permit count.");
}
