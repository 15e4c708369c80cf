using System.Reflection;
using Coordination.Keys;
using Hangfire;
using Hangfire.Server;

namespace Coordination.Hangfire;

/// <summary>
/// Binds a key template's placeholders to a job method's parameters by name (and member paths such as
/// <c>{order.Id}</c> through <see cref="KeyMemberPath"/>, the rule every host shares). Structure is checked once per method, so a placeholder naming
/// no parameter fails at enqueue; values are read from each job's arguments.
/// </summary>
internal sealed class JobKeyBinder
{
    private readonly KeyTemplate? _template;
    private readonly string _constantKey;
    private readonly Dictionary<KeyPlaceholder, int> _parameterIndex;
    private readonly string _job;

    private JobKeyBinder(string job, KeyTemplate? template, string constantKey, Dictionary<KeyPlaceholder, int> parameterIndex)
    {
        _job = job;
        _template = template;
        _constantKey = constantKey;
        _parameterIndex = parameterIndex;
    }

    public string Template => _template?.Template ?? _constantKey;

    /// <summary>Checks <paramref name="template"/> against <paramref name="method"/>'s parameters.</summary>
    /// <exception cref="JobLockKeyException">A placeholder names no parameter, an unsupported source, a substituted parameter or a missing member.</exception>
    public static JobKeyBinder Create(Type jobType, MethodInfo method, string? template)
    {
        var job = DisplayName(jobType, method);
        var defaultKey = "hangfire:" + (jobType.FullName ?? jobType.Name) + "." + method.Name;
        if (template is null)
        {
            return new JobKeyBinder(job, null, defaultKey, []);
        }

        KeyTemplate parsed;
        try
        {
            parsed = KeyTemplate.Parse(template);
        }
        catch (ArgumentException ex)
        {
            throw new JobLockKeyException($"Job {job}: {ex.Message}", ex);
        }

        var parameters = method.GetParameters();
        var index = new Dictionary<KeyPlaceholder, int>();
        foreach (var p in parsed.Placeholders)
        {
            if (p.Source.Length > 0 && p.Source != "arg")
            {
                throw new JobLockKeyException(job, template, p.Text, $"uses the source '{p.Source}'; job keys can only use job arguments ({{name}} or {{arg:name}})");
            }

            var i = Array.FindIndex(parameters, x => string.Equals(x.Name, p.RootName, StringComparison.Ordinal));
            if (i < 0)
            {
                var names = parameters.Length == 0 ? "none" : string.Join(", ", parameters.Select(x => x.Name));
                throw new JobLockKeyException(job, template, p.Text, $"names no parameter of the job method (parameters: {names})");
            }

            var type = parameters[i].ParameterType;
            if (type == typeof(CancellationToken) || type == typeof(IJobCancellationToken) || typeof(PerformContext).IsAssignableFrom(type))
            {
                throw new JobLockKeyException(job, template, p.Text, $"names the parameter '{p.RootName}' that Hangfire substitutes at run time ({type.Name}), not a job argument");
            }

            if (!KeyMemberPath.TryResolveType(type, p.MemberPath, out var missing, out var missingOn))
            {
                throw new JobLockKeyException(job, template, p.Text, $"names '{missing}', which is not a public property or field of {missingOn!.Name}");
            }

            index[p] = i;
        }

        return new JobKeyBinder(job, parsed, defaultKey, index);
    }

    /// <summary>Expands the template from <paramref name="args"/>.</summary>
    /// <exception cref="JobLockKeyException">An argument (or a member on its path) is null or missing.</exception>
    public string Bind(IReadOnlyList<object?> args)
    {
        if (_template is null)
        {
            return _constantKey;
        }

        return _template.Expand(p =>
        {
            var value = _parameterIndex[p] < args.Count ? args[_parameterIndex[p]] : null;
            if (value is null)
            {
                throw new JobLockKeyException(_job, _template.Template, p.Text, $"has no value: the argument '{p.RootName}' is null");
            }

            var root = value;
            value = KeyMemberPath.Read(value, p.MemberPath, out var failed)
                ?? throw new JobLockKeyException(_job, _template.Template, p.Text, $"has no value: '{failed}' is null or missing on the path from {root.GetType().Name}");
            return KeyTemplate.FormatValue(value);
        });
    }

    public static string DisplayName(Type type, MethodInfo method) => (type.FullName ?? type.Name) + "." + method.Name;
}
