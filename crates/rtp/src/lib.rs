//! RTP/RTCP (RFC 3550, 5761, 4585, 4588): headers, extensions, sequence arithmetic, RTCP feedback builders, RTX unwrap and a reorder buffer. Pure, no IO.
