using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace EchoHost.Configuration;

/// <summary>
/// Checks the raw <c>EchoHost</c> section before it is bound to <see cref="EchoHostOptions"/>: unknown keys and values
/// of the wrong type. Failures use the same one-line form as <see cref="EchoHostOptionsValidator"/>.
/// </summary>
internal static class ConfigurationShape
{
    /// <summary>Binds <paramref name="section"/> to <paramref name="options"/>, or throws with one line per bad key.</summary>
    public static void Bind(IConfigurationSection section, EchoHostOptions options)
    {
        var failures = new List<string>();
        Check(section, typeof(EchoHostOptions), failures);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EchoHostOptions), failures);
        }

        section.Bind(options);
    }

    /// <summary>
    /// Walks the raw configuration: a key that binds to nothing (a typo) or a value of the wrong type must not
    /// silently fall back to a default — the binder drops a whole listener when one of its values does not convert.
    /// </summary>
    private static void Check(IConfigurationSection section, Type type, List<string> failures)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                failures.Add($"{child.Path}: unknown key; known keys here are {string.Join(", ", properties.Keys)}");
                continue;
            }

            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var valueType = propertyType.GetGenericArguments()[1];
                foreach (var entry in child.GetChildren())
                {
                    Check(entry, valueType, failures);
                }
            }
            else if (propertyType.IsClass && propertyType != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                Check(child, propertyType, failures);
            }
            else if (child.Value is { } value && !Converts(value, propertyType))
            {
                failures.Add($"{child.Path}: '{value}' is not {Expected(propertyType)}");
            }
        }
    }

    private static bool Converts(string value, Type type)
    {
        if (type == typeof(string) || (value.Length == 0 && !type.IsValueType))
        {
            return true;
        }

        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException
                                   || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Expected(Type type) =>
        type == typeof(int) ? "a whole number"
        : type == typeof(double) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(TimeSpan) ? "a duration; write hh:mm:ss, such as 00:05:00 (or d.hh:mm:ss)"
        : type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
        : $"a valid {type.Name}";
}
