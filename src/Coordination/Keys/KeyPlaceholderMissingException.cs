// Shared source (see KeyTemplate.cs): linked into the generator, netstandard2.0-safe.
using System;

namespace Coordination.Keys;

/// <summary>A key template placeholder had no value for this request or call.</summary>
#if COORDINATION_KEYS_INTERNAL
internal
#else
public
#endif
sealed class KeyPlaceholderMissingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeyPlaceholderMissingException(string template, KeyPlaceholder placeholder)
        : base($"The lock key template '{template}' needs a value for {placeholder.Text}, but none was supplied.")
    {
        Template = template;
        Placeholder = placeholder;
    }

    /// <summary>The template being expanded.</summary>
    public string Template { get; }

    /// <summary>The placeholder without a value.</summary>
    public KeyPlaceholder Placeholder { get; }
}
