#pragma once

namespace mcpauth {

/// Makes this process keep its secrets to itself (security.md §4): no core dump (core limit 0),
/// and not dumpable, so a crash writes no core file holding tokens and no other process of the
/// same user can ptrace it or read its memory through /proc. Call first thing in main(), before
/// any secret exists. Returns false when the OS refused (the process then runs as before).
bool hardenProcess();

/// Raises this process's soft limit of open files towards `wanted` (never above the hard limit):
/// the agent holds a socket and up to two process handles per connection, and desktops start
/// programs with a soft limit of 1024. Returns the soft limit now in force.
long raiseOpenFileLimit(long wanted);

} // namespace mcpauth
