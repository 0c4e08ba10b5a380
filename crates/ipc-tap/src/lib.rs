//! ipc-tap: a transparent tap between control and mediad that prints and records every IPC frame.
