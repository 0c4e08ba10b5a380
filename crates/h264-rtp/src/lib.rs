//! H264 over RTP (RFC 6184): depacketizer to Annex-B access units and packetizer. Pure, no IO.
