"""The command daemon: a resident process that has already imported DuckDB, pyarrow, sqlglot and
the engine, and forks a child for each ``lowcode-sql`` command (issue 15, item 5).

Importing those libraries costs ~0.4 s of the ~0.5 s a ``lowcode-sql query`` takes, on every call.
With the daemon running (``lowcode-sql daemon start``), the command only connects to it: the
child gets the caller's standard streams (passed over the Unix socket), arguments, working
directory, environment and umask, runs the command exactly as the process would have, and its
exit status comes back to the caller. Each command runs in a fresh fork of a process that has only
imported and warmed up, so no command sees another's state, credentials or connections.

Stdlib only here (``place``, ``client``, ``control``): the caller imports nothing heavy before it
knows whether a daemon answers. The resident side is ``lowcode_sql.forkserver``.
"""

#: seconds a daemon waits with no command before it exits (``daemon start --idle``)
DEFAULT_IDLE = 900.0
