"""booksnap benchmarks: ``python -m benchmarks`` measures and rewrites docs/benchmarks.md."""
