using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Prometheus;

namespace KvnDb.Hosting.Metrics;

/// <summary>
/// The series every KvnDb process exports beside its own (router and node alike): build info, uptime,
/// the process (CPU, memory, threads, handles: prometheus-net's <see cref="DotNetStats"/>) and the runtime
/// (GC, thread pool, lock contention). All are read at scrape time, so they cost nothing in between.
/// </summary>
public static class StandardMetrics
{
    /// <summary>A registry of its own per router or node (tests run several in one process), with the standard series in it.</summary>
    public static CollectorRegistry CreateRegistry(string role)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        Register(registry, role);
        return registry;
    }

    /// <summary>A factory on <paramref name="registry"/> that records no exemplars (nothing per observation beyond the counts).</summary>
    public static IMetricFactory Factory(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        return factory;
    }

    private static void Register(CollectorRegistry registry, string role)
    {
        DotNetStats.Register(registry);
        var factory = Factory(registry);
        var version = typeof(StandardMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        factory.CreateGauge("kvndb_build_info", "KvnDb build: always 1, the labels say which", ["role", "version", "runtime"])
            .WithLabels(role, version.Split('+')[0], RuntimeInformation.FrameworkDescription).Set(1);
        var started = Stopwatch.GetTimestamp();
        var uptime = factory.CreateGauge("kvndb_uptime_seconds", "Seconds since this process started serving");
        var allocated = factory.CreateCounter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started");
        var pause = factory.CreateCounter("dotnet_gc_pause_seconds_total", "Time the GC paused the process");
        var heap = factory.CreateGauge("dotnet_gc_heap_size_bytes", "Managed heap size after the last GC");
        var committed = factory.CreateGauge("dotnet_gc_committed_bytes", "Memory committed by the GC");
        var threads = factory.CreateGauge("dotnet_thread_pool_threads", "Thread-pool threads");
        var queued = factory.CreateGauge("dotnet_thread_pool_queue_length", "Work items queued to the thread pool");
        var completed = factory.CreateCounter("dotnet_thread_pool_work_items_total", "Work items the thread pool completed");
        var contentions = factory.CreateCounter("dotnet_monitor_lock_contentions_total", "Times a thread waited for a lock held by another");
        registry.AddBeforeCollectCallback(() =>
        {
            uptime.Set(Stopwatch.GetElapsedTime(started).TotalSeconds);
            allocated.IncTo(GC.GetTotalAllocatedBytes());
            pause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
            var info = GC.GetGCMemoryInfo();
            heap.Set(info.HeapSizeBytes);
            committed.Set(info.TotalCommittedBytes);
            threads.Set(ThreadPool.ThreadCount);
            queued.Set(ThreadPool.PendingWorkItemCount);
            completed.IncTo(ThreadPool.CompletedWorkItemCount);
            contentions.IncTo(Monitor.LockContentionCount);
        });
    }

    /// <summary>The content type of the Prometheus text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
}
