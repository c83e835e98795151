using System.Reflection;
using System.Reflection.Emit;
using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests;

/// <summary>
/// Keeps the dependencies between the folders (= namespaces) of src/EchoHost pointing one way. The compiled assembly is
/// analysed, not the source text, so a reference counts however it is spelled (using, alias, var, fully qualified).
/// </summary>
public sealed class DependencyDirectionTests
{
    /// <summary>"This folder may use every folder."</summary>
    private const string Any = "*";

    /// <summary>The global namespace: Program.cs, the composition root.</summary>
    private const string Root = "Program";

    // Folder → the folders it may use (besides itself). Dependencies point from the protocols towards the connection
    // pipeline and from both towards hosting, which wires everything together; Configuration and Logging are leaves,
    // Telemetry and Health see only Configuration, and no protocol ever uses another protocol.
    private static readonly Dictionary<string, string[]> _allowed = new()
    {
        ["Configuration"] = [],
        ["Logging"] = [],
        ["Telemetry"] = ["Configuration"],
        ["Health"] = ["Configuration"],
        // The transport under Kestrel's connections (inline socket completions) is a leaf the pipeline reads a feature of.
        ["Transport"] = [],
        ["Pipeline"] = ["Configuration", "Logging", "Telemetry", "Transport"],
        ["Protocols.Echo"] = ["Configuration", "Logging", "Telemetry", "Pipeline"],
        ["Protocols.Chat"] = ["Configuration", "Logging", "Telemetry", "Pipeline", "Protocols.Chat.Core"],
        // The chat core is an island every kind of chat client joins: it owns its options (ChatOptions) and sees no
        // other folder (see The_chat_core_uses_no_transport_database_or_meter_type for the framework types it may not use).
        ["Protocols.Chat.Core"] = [],
        // The chat's scale-out backplane (Npgsql) sits under the chat core, which knows it only as an IChatBus.
        ["Protocols.Chat.Backplane"] = ["Configuration", "Logging", "Telemetry", "Protocols.Chat", "Protocols.Chat.Core"],
        // The chat's registration wires the core, the line protocol and the backplane: the one place that sees them all.
        ["Protocols.Chat.Registration"] = ["Configuration", "Telemetry", "Protocols.Chat", "Protocols.Chat.Backplane", "Protocols.Chat.Core"],
        // IRC is a second chat client kind: it joins the chat core and shares the line chat's outbox, flood control,
        // decoder rules and chat metrics, so its users have the same limits and counts as line users.
        ["Protocols.Irc"] = ["Configuration", "Logging", "Telemetry", "Pipeline", "Protocols.Chat", "Protocols.Chat.Core"],
        // The web listener: its chat and IRC over WebSocket run the chat's and IRC's connection handlers.
        ["Protocols.Web"] = ["Configuration", "Logging", "Telemetry", "Pipeline", "Protocols.Chat", "Protocols.Chat.Core", "Protocols.Irc"],
        ["Protocols.UdpEcho"] = ["Configuration", "Logging", "Telemetry", "Health"],
        ["Hosting"] = [Any],
        [Root] = [Any],
    };

    // Computed once: from folder → to folder → one example "Source uses Target" (the first in name order).
    private static readonly Lazy<SortedDictionary<string, SortedDictionary<string, string>>> _graph = new(BuildFolderGraph);

    [Fact]
    public void Every_folder_uses_only_the_folders_below_it()
    {
        var violations = (
            from source in _graph.Value
            from target in source.Value
            where source.Key != target.Key
            let allowed = _allowed.GetValueOrDefault(source.Key, [])
            where !allowed.Contains(Any) && !allowed.Contains(target.Key)
            select $"{source.Key} → {target.Key} ({target.Value})").ToList();

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    /// <summary>Namespaces the chat core must not use: transports, the HTTP stack, the database, the meters.</summary>
    private static readonly string[] _chatCoreForbidden =
        ["Microsoft.AspNetCore", "System.IO.Pipelines", "System.Net.Sockets", "Npgsql", "System.Diagnostics.Metrics"];

    [Fact]
    public void The_chat_core_uses_no_transport_database_or_meter_type()
    {
        // Every type of Protocols/Chat/Core (nested and generated ones included) and everything it references, however
        // spelled; a client kind (the line protocol, IRC, WebSocket) or a bus (the PostgreSQL backplane) plugs in
        // through the core's seams, never the other way round.
        const string core = "EchoHost.Protocols.Chat.Core";
        var types = typeof(Program).Assembly.GetTypes().Where(t => Outermost(t).Namespace == core).ToList();
        Assert.Contains(types, t => t.Name == "ChatServer");

        var violations = (
            from type in types
            from used in TypeReferences.ReferencedBy(type)
            let ns = Outermost(used).Namespace ?? ""
            where _chatCoreForbidden.Any(f => ns == f || ns.StartsWith(f + ".", StringComparison.Ordinal))
                || (ns.StartsWith("EchoHost.", StringComparison.Ordinal) && ns != core)
            select $"{NameOf(type)} uses {used.FullName}").Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void Only_the_composition_root_knows_the_protocols()
    {
        // A protocol is a plug-in: it adds itself to the registry with one Add…Protocol() call in Program.cs, and no
        // other folder (Configuration, Hosting, Pipeline, Telemetry, Health, Logging) names one of its types.
        var violations = (
            from source in _graph.Value
            where source.Key != Root && !source.Key.StartsWith("Protocols.", StringComparison.Ordinal)
            from target in source.Value
            where target.Key.StartsWith("Protocols.", StringComparison.Ordinal)
            select $"{source.Key} → {target.Key} ({target.Value})").ToList();

        Assert.True(violations.Count == 0, string.Join("\n", violations));
        Assert.Contains(_graph.Value[Root].Keys, folder => folder.StartsWith("Protocols.", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_folder_has_a_place_in_the_rules()
    {
        // A new folder must be placed in the table deliberately, not slip through with no rule at all.
        var folders = _graph.Value.Keys.Concat(_graph.Value.Values.SelectMany(to => to.Keys)).Distinct();
        var unplaced = folders.Where(folder => !_allowed.ContainsKey(folder)).ToList();

        Assert.True(unplaced.Count == 0, "Folders missing from the rule table: " + string.Join(", ", unplaced));
    }

    [Fact]
    public void No_two_folders_use_each_other()
    {
        var cycles = new List<string>();
        var done = new HashSet<string>();
        var path = new List<string>();

        void Visit(string folder)
        {
            path.Add(folder);
            foreach (var next in _graph.Value.GetValueOrDefault(folder)?.Keys ?? Enumerable.Empty<string>())
            {
                if (next == folder || done.Contains(next))
                {
                    continue;
                }
                var onPath = path.IndexOf(next);
                if (onPath >= 0)
                {
                    var cycle = path.Skip(onPath).Append(next).ToList();
                    var examples = cycle.Zip(cycle.Skip(1), (a, b) => _graph.Value[a][b]);
                    cycles.Add(string.Join(" → ", cycle) + " (" + string.Join("; ", examples) + ")");
                }
                else
                {
                    Visit(next);
                }
            }

            path.RemoveAt(path.Count - 1);
            done.Add(folder);
        }

        foreach (var folder in _graph.Value.Keys) if (!done.Contains(folder))
        {
            Visit(folder);
        }

        Assert.True(cycles.Count == 0, string.Join("\n", cycles));
    }

    [Fact]
    public void The_analysis_sees_references_made_only_inside_method_bodies()
    {
        // Guards the other tests against passing vacuously because the analysis saw nothing.
        Assert.Contains("Pipeline", _graph.Value["Hosting"].Keys);
        Assert.Contains("Hosting", _graph.Value[Root].Keys);
        Assert.True(_graph.Value[Root].Keys.Count(folder => folder != Root) >= 5, "Program uses fewer than 5 folders?");

        // The probe names StringBuilder only in IL: no field, parameter, return value or local has that type.
        var probe = typeof(IlOnlyProbe);
        var methods = probe.GetMethods(TypeReferences.Declared).Where(m => m.DeclaringType == probe).ToList();
        Assert.DoesNotContain(methods, m => m.ReturnType == typeof(StringBuilder)
            || m.GetParameters().Any(p => p.ParameterType == typeof(StringBuilder))
            || m.GetMethodBody()!.LocalVariables.Any(l => l.LocalType == typeof(StringBuilder)));
        Assert.Empty(probe.GetFields(TypeReferences.Declared));

        var seen = TypeReferences.Collect(probe.Assembly, t => t == probe || t == typeof(StringBuilder));
        Assert.Contains(typeof(StringBuilder), seen[probe]);
    }

    [Fact]
    public void Each_source_file_declares_the_namespace_of_its_folder()
    {
        var source = Repository.Path("src/EchoHost");
        var wrong = new List<string>();
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(relative)!.Replace(Path.DirectorySeparatorChar, '/');
            var expected = folder.Length == 0 ? null : "EchoHost." + folder.Replace('/', '.');
            var match = Regex.Match(File.ReadAllText(file), @"^\s*namespace\s+([\w.]+)\s*;", RegexOptions.Multiline);
            var actual = match.Success ? match.Groups[1].Value : null;
            if (actual != expected)
            {
                wrong.Add($"{relative}: namespace {actual ?? "(none)"}, expected {expected ?? "(none)"}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static SortedDictionary<string, SortedDictionary<string, string>> BuildFolderGraph()
    {
        var assembly = typeof(Program).Assembly;
        var references = TypeReferences.Collect(assembly, t => t.Assembly == assembly && FolderOf(t) is not null);
        var graph = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (source, targets) in references.OrderBy(r => Outermost(r.Key).FullName, StringComparer.Ordinal))
        {
            var from = FolderOf(source)!;
            var edges = graph.TryGetValue(from, out var existing) ? existing : graph[from] = new(StringComparer.Ordinal);
            foreach (var target in targets.OrderBy(t => Outermost(t).FullName, StringComparer.Ordinal))
            {
                edges.TryAdd(FolderOf(target)!, $"{NameOf(source)} uses {NameOf(target)}");
            }
        }

        return graph;
    }

    /// <summary>Nested and compiler-generated types belong to the folder of their outermost declaring type.</summary>
    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }
        return type;
    }

    /// <summary>"Protocols.Chat" for EchoHost.Protocols.Chat, "Program" for the composition root, null for anything else.</summary>
    private static string? FolderOf(Type type)
    {
        var outermost = Outermost(type);
        return outermost.Namespace switch
        {
            null => outermost.Name == nameof(Program) ? Root : null,
            "EchoHost" => "(EchoHost)",
            var ns when ns.StartsWith("EchoHost.", StringComparison.Ordinal) => ns["EchoHost.".Length..],
            _ => null,
        };
    }

    private static string NameOf(Type type) => Outermost(type).Name.Split('`')[0];

    /// <summary>References StringBuilder only inside a method body, to prove the IL walk sees such references.</summary>
    private static class IlOnlyProbe
    {
        public static string Build() => new StringBuilder().Append(1).ToString();
    }
}

/// <summary>
/// The types each type of an assembly references: its signatures (base type, interfaces, fields, properties, events,
/// parameters, return values, attributes), its locals, and every type, method and field token in its IL.
/// </summary>
internal static class TypeReferences
{
    public const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly OpCode[] _oneByte = new OpCode[0x100];
    private static readonly OpCode[] _twoByte = new OpCode[0x100];

    static TypeReferences()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.GetValue(null) is not OpCode op)
            {
                continue;
            }
            var value = (ushort)op.Value;
            if (value < 0x100)
            {
                _oneByte[value] = op;
            }
            else if ((value & 0xFF00) == 0xFE00) _twoByte[value & 0xFF] = op;
        }
    }

    /// <summary>For each type of the assembly that matters (nested and generated ones included): the types it uses that matter.</summary>
    public static Dictionary<Type, HashSet<Type>> Collect(Assembly assembly, Func<Type, bool> matters) =>
        assembly.GetTypes().Where(matters).ToDictionary(t => t, t => ReferencedBy(t).Where(matters).ToHashSet());

    public static HashSet<Type> ReferencedBy(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || t.IsGenericParameter || !found.Add(t))
            {
                return;
            }
            if (t.HasElementType)
            {
                Add(t.GetElementType());
            }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                Add(t.GetGenericTypeDefinition());
                foreach (var argument in t.GetGenericArguments())
                {
                    Add(argument);
                }
            }
        }

        void AddMember(MemberInfo member)
        {
            Add(member.DeclaringType);
            foreach (var attribute in member.GetCustomAttributesData())
            {
                Add(attribute.AttributeType);
            }
            switch (member)
            {
                case Type t: Add(t); break;
                case FieldInfo f: Add(f.FieldType); break;
                case PropertyInfo p: Add(p.PropertyType); break;
                case EventInfo e: Add(e.EventHandlerType); break;
                case MethodBase m:
                    if (m is MethodInfo info)
                    {
                        Add(info.ReturnType);
                    }
                    if (m.IsGenericMethod) foreach (var argument in m.GetGenericArguments())
                    {
                        Add(argument);
                    }
                    foreach (var parameter in m.GetParameters())
                    {
                        Add(parameter.ParameterType);
                    }
                    break;
            }
        }

        Add(type.BaseType);
        foreach (var implemented in type.GetInterfaces())
        {
            Add(implemented);
        }
        foreach (var attribute in type.GetCustomAttributesData())
        {
            Add(attribute.AttributeType);
        }
        foreach (var parameter in type.IsGenericTypeDefinition ? type.GetGenericArguments() : Type.EmptyTypes)
        {
            foreach (var constraint in parameter.GetGenericParameterConstraints())
            {
                Add(constraint);
            }
        }

        foreach (var member in type.GetMembers(Declared).Append(type.TypeInitializer).OfType<MemberInfo>())
        {
            AddMember(member);
            if (member is MethodBase method && method.GetMethodBody() is { } body)
            {
                foreach (var local in body.LocalVariables)
                {
                    Add(local.LocalType);
                }
                foreach (var used in UsedInIl(method, body.GetILAsByteArray() ?? []))
                {
                    AddMember(used);
                }
            }
        }

        found.Remove(type);
        return found;
    }

    /// <summary>The members named by the method, type, field and token operands of an IL body.</summary>
    private static IEnumerable<MemberInfo> UsedInIl(MethodBase method, byte[] il)
    {
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var op = il[at] == 0xFE ? _twoByte[il[at + 1]] : _oneByte[il[at]];
            if (op.Size == 0)
            {
                throw new InvalidOperationException($"Unknown opcode at IL_{at:x4} in {method.DeclaringType}.{method.Name}.");
            }
            at += op.Size;
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok
                && Resolve(method, BitConverter.ToInt32(il, at), typeArguments, methodArguments) is { } member)
            {
                yield return member;
            }

            at += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at), // a count, then that many targets
                _ => 4, // branch targets, int32, float32, and method, field, type, token, signature and string tokens
            };
        }
    }

    private static MemberInfo? Resolve(MethodBase method, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return method.Module.ResolveMember(token, typeArguments, methodArguments);
        }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException)
        {
            return null; // A token that cannot be resolved in this generic context.
        }
    }
}
