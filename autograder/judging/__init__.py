"""The trust boundary: student code runs only in the sandboxed kernel (sandbox, polling, executor);
points come only from the judge, a process that never runs it (judge, harness). docs/SECURITY.md."""
