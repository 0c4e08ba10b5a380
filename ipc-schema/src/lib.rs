//! ipc-schema
