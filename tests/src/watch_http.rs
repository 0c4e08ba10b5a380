//! HTTP and JPEG helpers of the watch tests (tests/watch.rs): raw requests
//! to control's dashboard, its server-sent events, and test pictures.

use std::time::Duration;

use serde_json::Value;

/// A `w`×`h` JPEG at `quality` of a grey checkerboard with `cell`-pixel
/// squares: the test picture every e2e test sends or compares.
pub fn checkerboard_jpeg(w: usize, h: usize, cell: usize, quality: u8) -> Vec<u8> {
    let mut b = video_pipeline::YuvBuffer::new(w, h);
    let (y, u, v) = b.planes_mut();
    for (i, p) in y.iter_mut().enumerate() {
        *p = if ((i % w) / cell + (i / w) / cell).is_multiple_of(2) {
            220
        } else {
            30
        };
    }
    u.fill(128);
    v.fill(128);
    video_pipeline::JpegEncoder::new()
        .expect("encoder")
        .encode(&b.as_frame(), quality)
        .expect("jpeg")
}

/// A 320×180 JPEG (quality 80) of a grey checkerboard with `cell`-pixel squares.
pub fn jpeg_frame(cell: usize) -> Vec<u8> {
    checkerboard_jpeg(320, 180, cell, 80)
}

/// A GET with an explicit Host header; (status, headers and body).
pub async fn raw_get(addr: &str, path: &str, host: &str) -> (u16, String) {
    let r = crate::http_raw(addr, "GET", path, Some(host), &[], None)
        .await
        .expect("GET");
    (r.status, format!("{}\r\n\r\n{}", r.head, r.body))
}

/// The `data:` of the first server-sent event at `path`.
pub async fn first_sse_event(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut lines = BufReader::new(stream).lines();
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(data) = line.strip_prefix("data: ") {
                return data.to_owned();
            }
        }
        String::new()
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an event within 10 s")
}

/// `POST path` with `body` and the dashboard token; the JSON answer, or
/// `null` when the request fails.
pub async fn http_with_token(addr: &str, path: &str, body: &Value, token: &str) -> Value {
    crate::http_with(
        addr,
        "POST",
        path,
        Some(body),
        &[("x-dashboard-token", token)],
    )
    .await
    .map_or(Value::Null, |(_, v)| v)
}

/// `GET path` from control as raw bytes (the body after the header block).
pub async fn get_bytes(addr: &str, path: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return Vec::new();
    };
    let req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    if stream.write_all(req.as_bytes()).await.is_err() {
        return Vec::new();
    }
    let mut resp = Vec::new();
    let _ = stream.read_to_end(&mut resp).await;
    if !resp.starts_with(b"HTTP/1.1 200") {
        return Vec::new();
    }
    resp.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| resp[i + 4..].to_vec())
        .unwrap_or_default()
}

/// A JPEG's (width, height) from its SOF segment and the first (DC)
/// entry of its first quantization table, which the encoder's quality
/// scales (IJG: 16 × (q < 50 ? 5000 / q : 200 − 2q) / 100).
pub fn jpeg_facts(jpeg: &[u8]) -> Option<((u32, u32), u8)> {
    let (mut size, mut dc_quant) = (None, None);
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let seg = jpeg.get(i + 4..i + 2 + len)?;
        match marker {
            0xDB if dc_quant.is_none() => dc_quant = seg.get(1).copied(),
            0xC0..=0xC2 => {
                let h = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
                let w = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
                size = Some((w, h));
            }
            0xDA => break,
            _ => {}
        }
        i += 2 + len;
    }
    Some((size?, dc_quant?))
}
