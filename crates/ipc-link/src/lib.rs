//! Tokio transport for ipc-schema frames over local sockets: handshake, reliable and lossy lanes.
