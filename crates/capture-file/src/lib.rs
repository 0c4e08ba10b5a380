//! Readers for captured RTP streams: pcap, pcapng and rtpdump files.
