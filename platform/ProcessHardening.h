#pragma once

namespace mcpauth {

/// Makes this process keep its secrets to itself (security.md §4): no core dump (core limit 0),
/// and not dumpable, so a crash writes no core file holding tokens and no other process of the
/// same user can ptrace it or read its memory through /proc. Call first thing in main(), before
/// any secret exists. Returns false when the OS refused (the process then runs as before).
bool hardenProcess();

} // namespace mcpauth
