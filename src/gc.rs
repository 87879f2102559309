//! Garbage collection of unreferenced blobs and stale temp files (`nora gc`).
