"""The deterministic demo dataset and the scaled data for benchmarks."""
