#!/usr/bin/env python3
"""Known-answer vectors for crates/voice-crypto, derived independently of the
Rust code: AES-256-GCM from `cryptography`, XChaCha20-Poly1305 (IETF) and
XSalsa20-Poly1305 (secretbox) from libsodium via PyNaCl.

The packet framing below is written from discord-protocol.md §2.4–§2.6:
  AEAD rtpsize: header(AAD: 12 + 4*CC + 4*X bytes) | ct | tag16 | ctr BE 4;
                nonce = ctr BE + zeros (12 or 24 bytes).
  RTCP (all modes but plain xsalsa20_poly1305): first 8 bytes clear (AAD
                for AEAD), rest sealed as above.
  legacy secretbox: header | mac16 | ct | trailer, no AAD.
    xsalsa20_poly1305: header 12, nonce = header12 + 12 zeros, no trailer
    _suffix: header 12, nonce = ctr BE 4 + salt 20 (the crate's
             documented choice), 24-byte nonce as trailer
    _lite:   header 12, nonce = ctr BE 4 + 20 zeros, ctr as trailer
    _lite_rtpsize: like _lite with the rtpsize header
Usage: pip install cryptography pynacl;
  python3 scripts/gen-voice-crypto-vectors.py > crates/voice-crypto/tests/vectors/transport.json
"""
import hashlib
import json
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl import bindings as sodium

KEY = hashlib.sha256(b"voice-crypto known-answer key").digest()
SALT = hashlib.sha256(b"voice-crypto suffix salt").digest()[:20]


def rtp(b0, b1, seq, ts, ssrc, csrcs=(), ext=None, payload=b"", pad=0):
    """Plain RTP packet from RFC 3550 fields (b0 carries V/P/X/CC)."""
    out = struct.pack(">BBHII", b0, b1, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack(">I", c)
    if ext is not None:
        profile, body = ext
        assert len(body) % 4 == 0
        out += struct.pack(">HH", profile, len(body) // 4) + body
    out += payload
    if pad:
        out += bytes(pad - 1) + bytes([pad])
    return out


def clear_len(mode, kind, pkt):
    if kind == "rtcp":
        return 8
    if mode in ("xsalsa20_poly1305", "xsalsa20_poly1305_suffix", "xsalsa20_poly1305_lite"):
        return 12
    b0 = pkt[0]
    return 12 + 4 * (b0 & 0x0F) + (4 if b0 & 0x10 else 0)


def seal(mode, kind, pkt, counter):
    h = clear_len(mode, kind, pkt)
    head, body = pkt[:h], pkt[h:]
    ctr = struct.pack(">I", counter)
    if mode == "aead_aes256_gcm_rtpsize":
        return head + AESGCM(KEY).encrypt(ctr + bytes(8), body, head) + ctr
    if mode == "aead_xchacha20_poly1305_rtpsize":
        sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(body, head, ctr + bytes(20), KEY)
        return head + sealed + ctr
    if mode == "xsalsa20_poly1305":
        return head + sodium.crypto_secretbox(body, pkt[:12] + bytes(12), KEY)
    if mode == "xsalsa20_poly1305_suffix":
        nonce = ctr + SALT
        return head + sodium.crypto_secretbox(body, nonce, KEY) + nonce
    if mode in ("xsalsa20_poly1305_lite", "xsalsa20_poly1305_lite_rtpsize"):
        return head + sodium.crypto_secretbox(body, ctr + bytes(20), KEY) + ctr
    raise ValueError(mode)


PACKETS = {
    # Opus audio: V=2, no extension, PT 120.
    "rtp_audio": rtp(0x80, 120, 0x0102, 960 * 7, 0x11223344, payload=bytes(range(40))),
    # Video: X=1 with one element (id 5, 3 bytes, playout delay 0/0), M=1,
    # PT 103. Element bytes must end up encrypted in rtpsize modes.
    "rtp_video_ext": rtp(0x90, 0x80 | 103, 0xFFFF, 90000, 0x55667788,
                         ext=(0xBEDE, bytes([0x52, 0, 0, 0])), payload=b"\x7c\x85" + bytes(range(100, 160))),
    # CC=2, X=1 (two elements over two words), P=1 with 4 padding bytes.
    "rtp_csrc_ext_pad": rtp(0xB2, 96, 7, 123456, 0x01020304, csrcs=(0xAAAAAAAA, 0xBBBBBBBB),
                            ext=(0xBEDE, bytes([0x10, 0x7F, 0x22, 1, 2, 3, 0, 0])), payload=b"hello", pad=4),
    # All-padding packet (seen on some voice servers).
    "rtp_all_padding": rtp(0xA0, 120, 9, 0, 0x11223344, pad=8),
    # RTCP RR with one report block (8 clear bytes, 24 sealed).
    "rtcp_rr": struct.pack(">BBHI", 0x81, 201, 7, 0x0BADF00D) + struct.pack(">IIIIII", 0x11223344, 0x40000002, 0x00010005, 16, 0x11223344, 0x18000),
    # RTCP PLI.
    "rtcp_pli": struct.pack(">BBHII", 0x81, 206, 2, 0x0BADF00D, 0x55667788),
}

MODES = [
    "aead_aes256_gcm_rtpsize",
    "aead_xchacha20_poly1305_rtpsize",
    "xsalsa20_poly1305_lite_rtpsize",
    "xsalsa20_poly1305_lite",
    "xsalsa20_poly1305_suffix",
    "xsalsa20_poly1305",
]
COUNTERS = [0, 1, 0xFFFFFFFF, 0x12345678]


def main():
    cases = []
    for mi, mode in enumerate(MODES):
        for pi, (name, pkt) in enumerate(PACKETS.items()):
            kind = "rtcp" if name.startswith("rtcp") else "rtp"
            if kind == "rtcp" and mode == "xsalsa20_poly1305":
                continue  # no safe RTCP nonce in that mode
            counter = COUNTERS[(mi + pi) % len(COUNTERS)]
            cases.append({
                "name": f"{mode}/{name}",
                "mode": mode,
                "kind": kind,
                "counter": counter,
                "plain": pkt.hex(),
                "clear_len": clear_len(mode, kind, pkt),
                "sealed": seal(mode, kind, pkt, counter).hex(),
            })
    print(json.dumps({
        "generator": "scripts/gen-voice-crypto-vectors.py (cryptography + PyNaCl/libsodium)",
        "key": KEY.hex(),
        "suffix_salt": SALT.hex(),
        "cases": cases,
    }, indent=1))


if __name__ == "__main__":
    main()
