"""The benchmark harness behind bench/run: see bench/README.md."""
