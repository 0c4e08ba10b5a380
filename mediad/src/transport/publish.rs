//! stream_publish (not yet).
