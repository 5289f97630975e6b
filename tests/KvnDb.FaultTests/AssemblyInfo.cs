// The scenarios measure stalls in wall-clock time on a small machine, and each builds its own set
// of namespaces and processes: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
