//! Video decode (OpenH264, libvpx), frame-rate gating, scaling, JPEG encoding and visual change metrics.
