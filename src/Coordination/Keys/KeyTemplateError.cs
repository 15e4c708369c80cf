// Shared source (see KeyTemplate.cs): linked into the generator, netstandard2.0-safe.
namespace Coordination.Keys;

/// <summary>Why a key template did not parse, and the span of the template text at fault.</summary>
/// <param name="Message">What is wrong, phrased to follow "Lock key template 'x' ...".</param>
/// <param name="Start">Index of the first offending character.</param>
/// <param name="Length">Number of offending characters.</param>
internal sealed record KeyTemplateError(string Message, int Start, int Length);
