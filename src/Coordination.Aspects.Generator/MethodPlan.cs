using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Coordination.Aspects.Generator;

/// <summary>What the generator needs to guard calls to one marked method, plus the problems found in its declaration.</summary>
internal sealed class MethodPlan
{
    public List<Diagnostic> Diagnostics { get; } = new();

    public bool IsValid => Diagnostics.All(d => d.Severity != DiagnosticSeverity.Error);

    /// <summary>C# expression that builds the lock key from the parameters (escaped as <c>@name</c>).</summary>
    public string KeyExpression { get; set; } = "\"\"";

    /// <summary>
    /// Statements before <see cref="KeyExpression"/>: member paths read through local copies of their parameters, so the
    /// null-conditional reads do not change what nullable analysis believes about the parameters themselves.
    /// </summary>
    public string KeyPrelude { get; set; } = string.Empty;

    public long TimeoutTicks { get; set; }

    public bool Skip { get; set; }

    /// <summary>Permits per key (1 = the lock, N = a semaphore).</summary>
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>The <c>LockAccess</c> value: 0 exclusive, 1 read, 2 write.</summary>
    public int Access { get; set; }

    public ReturnKind ReturnKind { get; set; }

    /// <summary>The method is private or protected: generated code calls it through an <c>UnsafeAccessor</c>.</summary>
    public bool UseUnsafeAccessor { get; set; }

    /// <summary>The parameter linked with the lock's lost token, or null.</summary>
    public string? CancellationParameter { get; set; }
}
