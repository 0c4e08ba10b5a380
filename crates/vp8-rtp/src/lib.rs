//! VP8 over RTP (RFC 7741): depacketizer and packetizer. Pure, no IO.
