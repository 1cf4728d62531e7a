using System.Reflection;
using System.Runtime.Loader;

namespace Flotilla.MapReduce.Apps;

/// <summary>
/// Resolves <c>--app</c>: a built-in name, or the path of an assembly holding exactly one public class that
/// implements <see cref="IMapReduceApp"/> (pick one of several with <c>path.dll:Full.Type.Name</c>).
/// User assemblies load into their own <see cref="AssemblyLoadContext"/> so their dependencies do not clash
/// with Flotilla's; the app interfaces themselves always come from Flotilla's copy.
/// </summary>
public static class AppLoader
{
    public static IMapReduceApp Load(string spec, IReadOnlyDictionary<string, string>? arguments = null)
    {
        var app = BuiltInApps.TryCreate(spec) ?? LoadFromAssembly(spec);
        app.Configure(arguments ?? new Dictionary<string, string>());
        return app;
    }

    private static IMapReduceApp LoadFromAssembly(string spec)
    {
        var (path, typeName) = SplitSpec(spec);
        if (!File.Exists(path))
            throw new MapReduceException(MapReduceError.UnknownApp,
                $"unknown app '{spec}': not a built-in app ({string.Join(", ", BuiltInApps.Names)}) and no such assembly file");
        var fullPath = Path.GetFullPath(path);
        Assembly assembly;
        try
        {
            assembly = new AppLoadContext(fullPath).LoadFromAssemblyPath(fullPath);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or IOException)
        {
            throw new MapReduceException(MapReduceError.BadAppAssembly, $"cannot load app assembly '{path}': {e.Message}", e);
        }

        Type[] types;
        try { types = assembly.GetExportedTypes(); }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
        {
            throw new MapReduceException(MapReduceError.BadAppAssembly, $"cannot read the types of app assembly '{path}': {e.Message}", e);
        }
        var candidates = types
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IMapReduceApp).IsAssignableFrom(t))
            .Where(t => typeName is null || t.FullName == typeName)
            .ToList();
        if (candidates.Count != 1)
        {
            var found = candidates.Count == 0 ? "none" : string.Join(", ", candidates.Select(t => t.FullName));
            throw new MapReduceException(MapReduceError.BadAppAssembly,
                $"app assembly '{path}' must hold exactly one public IMapReduceApp class{(typeName is null ? "" : $" named {typeName}")} (found: {found}); choose one with PATH:TYPE");
        }
        try
        {
            return (IMapReduceApp)Activator.CreateInstance(candidates[0])!;
        }
        catch (Exception e) when (e is MissingMethodException or TargetInvocationException or MemberAccessException)
        {
            throw new MapReduceException(MapReduceError.BadAppAssembly,
                $"cannot create app {candidates[0].FullName}: it needs a public parameterless constructor that does not throw ({e.InnerException?.Message ?? e.Message})", e);
        }
    }

    private static (string Path, string? TypeName) SplitSpec(string spec)
    {
        // "C:\x.dll" has a colon too; only split on one that follows ".dll".
        var marker = spec.IndexOf(".dll:", StringComparison.OrdinalIgnoreCase);
        return marker < 0 ? (spec, null) : (spec[..(marker + 4)], spec[(marker + 5)..]);
    }

    /// <summary>Loads an app's private dependencies from beside it; shares everything Flotilla already loaded.</summary>
    private sealed class AppLoadContext(string mainAssemblyPath) : AssemblyLoadContext($"flotilla-app:{Path.GetFileName(mainAssemblyPath)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

        protected override Assembly? Load(AssemblyName name)
        {
            // Share the app contract (and anything else the host has): type identity of IMapReduceApp depends on it.
            if (Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name))) return null;
            if (name.Name == typeof(IMapReduceApp).Assembly.GetName().Name) return null;
            var path = _resolver.ResolveAssemblyToPath(name);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
