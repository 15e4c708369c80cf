namespace Coordination.Hangfire;

/// <summary>
/// A job's lock key template cannot be bound to the job: a placeholder names no parameter of the job method, names a
/// missing member, or its argument is null. Thrown when the job is enqueued (or validated at startup), naming the job
/// and the placeholder, so a bad template never reaches a worker.
/// </summary>
public sealed class JobLockKeyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobLockKeyException() : base("A job lock key template cannot be bound to the job.") { }

    /// <summary>Creates the exception with a message.</summary>
    public JobLockKeyException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public JobLockKeyException(string message, Exception innerException) : base(message, innerException) { }

    internal JobLockKeyException(string job, string template, string placeholder, string problem)
        : base($"Job {job}: the lock key template '{template}' has the placeholder {placeholder}, which {problem}.")
    {
        Job = job;
        Template = template;
        Placeholder = placeholder;
    }

    /// <summary>The job method, as <c>Type.Method</c>.</summary>
    public string? Job { get; }

    /// <summary>The key template.</summary>
    public string? Template { get; }

    /// <summary>The offending placeholder as written, with braces.</summary>
    public string? Placeholder { get; }
}
