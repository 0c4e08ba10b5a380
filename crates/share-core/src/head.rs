//! Limits on a request's head (request target, header section) and the
//! JSON form of the refusals hyper writes by itself.
//!
//! control checks [`HeadLimits`] in its outermost layer, so a long
//! request target is a 414 `uri_too_long` and a large header section a
//! 431 `headers_too_large`, JSON like every other error. These limits sit
//! below hyper's own (a 64 KiB request target, 100 header lines, a
//! ~400 KiB read buffer); a head beyond those never reaches a layer:
//! hyper answers it itself with an empty body, and control's connection
//! wrapper rewrites that answer with [`automatic_refusal_as_json`].

/// What control accepts in a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest request target (path and query, or the absolute form).
    pub max_target_bytes: usize,
    /// Largest header section: every line's name, value, `": "` and CRLF.
    pub max_header_bytes: usize,
    /// Most header lines.
    pub max_header_lines: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self {
            max_target_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            max_header_lines: 96,
        }
    }
}

/// Why a request head is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadRefusal {
    /// The request target is too long (414).
    UriTooLong,
    /// The header section is too large or has too many lines (431).
    HeadersTooLarge,
    /// hyper could not parse the head (400); only from
    /// [`automatic_refusal_as_json`].
    Malformed,
}

impl HeadRefusal {
    /// HTTP status.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UriTooLong => 414,
            Self::HeadersTooLarge => 431,
            Self::Malformed => 400,
        }
    }

    /// The stable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UriTooLong => "uri_too_long",
            Self::HeadersTooLarge => "headers_too_large",
            Self::Malformed => "bad_request",
        }
    }

    /// A sentence for the `error` field.
    pub fn message(&self) -> &'static str {
        match self {
            Self::UriTooLong => "The request target is too long.",
            Self::HeadersTooLarge => "The request's header section is too large.",
            Self::Malformed => "The request could not be parsed.",
        }
    }

    /// `{"error":…,"ok":false,"reason":…}`: control's error shape.
    pub fn body(&self) -> HeadRefusalBody {
        HeadRefusalBody {
            error: self.message(),
            ok: false,
            reason: self.reason(),
        }
    }
}

/// The JSON body of a [`HeadRefusal`], control's error shape; fields in
/// key order (the bytes of the sorted `json!` object it replaced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HeadRefusalBody {
    /// [`HeadRefusal::message`].
    pub error: &'static str,
    /// Always `false`.
    pub ok: bool,
    /// [`HeadRefusal::reason`].
    pub reason: &'static str,
}

impl HeadLimits {
    /// Checks a request head: the target's length, then each header line
    /// as `(name length, value length)`.
    pub fn check(
        &self,
        target_len: usize,
        headers: impl IntoIterator<Item = (usize, usize)>,
    ) -> Result<(), HeadRefusal> {
        if target_len > self.max_target_bytes {
            return Err(HeadRefusal::UriTooLong);
        }
        let (mut lines, mut bytes) = (0usize, 0usize);
        for (name, value) in headers {
            lines += 1;
            bytes = bytes
                .saturating_add(name)
                .saturating_add(value)
                .saturating_add(4);
            if lines > self.max_header_lines || bytes > self.max_header_bytes {
                return Err(HeadRefusal::HeadersTooLarge);
            }
        }
        Ok(())
    }
}

/// If `written` is one of the bodiless refusals hyper answers by itself
/// when it cannot parse a head (`400`, `414`, `431` with
/// `content-length: 0`, the whole response in one write), the same
/// response with a JSON body and `connection: close`; otherwise `None`.
pub fn automatic_refusal_as_json(written: &[u8]) -> Option<Vec<u8>> {
    // hyper's own refusal is a status line, content-length and date.
    if written.len() > 512 || !written.starts_with(b"HTTP/1.") {
        return None;
    }
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    if head_end + 4 != written.len() {
        return None; // a body follows, or more than one response
    }
    let head = std::str::from_utf8(&written[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    let code = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let refusal = match code {
        "400" => HeadRefusal::Malformed,
        "414" => HeadRefusal::UriTooLong,
        "431" => HeadRefusal::HeadersTooLarge,
        _ => return None,
    };
    let mut kept = Vec::new();
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "content-length" if value.trim() == "0" => empty = true,
            "content-length" | "transfer-encoding" | "content-type" => return None,
            "connection" => {}
            _ => kept.push(line),
        }
    }
    if !empty {
        return None;
    }
    let body = serde_json::to_string(&refusal.body()).ok()?;
    let mut out = format!("{status_line}\r\n");
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn targets_and_header_sections_within_the_limits_pass() {
        let l = HeadLimits::default();
        assert_eq!(l.check(8 * 1024, [(4, 20); 96]), Ok(()));
        assert_eq!(l.check(8 * 1024 + 1, []), Err(HeadRefusal::UriTooLong));
        assert_eq!(
            l.check(10, [(4, 20); 97]),
            Err(HeadRefusal::HeadersTooLarge)
        );
        // 32 KiB exactly passes, one byte more does not.
        assert_eq!(l.check(1, [(6, 32 * 1024 - 10)]), Ok(()));
        assert_eq!(
            l.check(1, [(6, 32 * 1024 - 9)]),
            Err(HeadRefusal::HeadersTooLarge)
        );
        assert_eq!(
            l.check(1, [(usize::MAX, usize::MAX)]),
            Err(HeadRefusal::HeadersTooLarge)
        );
    }

    #[test]
    fn hypers_own_refusals_become_json() {
        for (code, reason) in [
            ("431 Request Header Fields Too Large", "headers_too_large"),
            ("414 URI Too Long", "uri_too_long"),
            ("400 Bad Request", "bad_request"),
        ] {
            let hyper = format!(
                "HTTP/1.1 {code}\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 06:00:00 GMT\r\n\r\n"
            );
            let out = automatic_refusal_as_json(hyper.as_bytes()).expect(code);
            let out = String::from_utf8(out).unwrap();
            let (head, body) = out.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with(&format!("HTTP/1.1 {code}\r\n")), "{head}");
            assert!(head.contains("\r\ndate: Mon, 07 Dec 2026 06:00:00 GMT"));
            assert!(head.contains("\r\ncontent-type: application/json"));
            assert!(head.contains("\r\nconnection: close"));
            assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())));
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["reason"], reason);
            assert_eq!(v["ok"], false);
        }
    }

    /// The typed body writes what its `json!` object wrote.
    #[test]
    fn refusal_bodies_keep_their_bytes() {
        for r in [
            HeadRefusal::UriTooLong,
            HeadRefusal::HeadersTooLarge,
            HeadRefusal::Malformed,
        ] {
            let old = serde_json::json!({"ok": false, "error": r.message(), "reason": r.reason()});
            assert_eq!(serde_json::to_string(&r.body()).unwrap(), old.to_string());
        }
    }

    #[test]
    fn other_responses_are_left_alone() {
        for written in [
            // Our own JSON refusal, with its body.
            &b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"[..],
            // The same head without its body in this write.
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"body bytes that happen to mention 431\r\n\r\n",
        ] {
            assert_eq!(
                automatic_refusal_as_json(written),
                None,
                "{}",
                String::from_utf8_lossy(written)
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_writes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = automatic_refusal_as_json(&bytes);
            let mut with_head = b"HTTP/1.1 431 X\r\ncontent-length: 0\r\n".to_vec();
            with_head.extend_from_slice(&bytes);
            with_head.extend_from_slice(b"\r\n\r\n");
            let _ = automatic_refusal_as_json(&with_head);
        }
    }
}
