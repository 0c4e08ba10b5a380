//! Discord voice UDP transport encryption (AEAD rtpsize and legacy xsalsa20 modes) for RTP and RTCP. Pure, no IO.
