//! The Discord REST subset control uses: posting a message to a text
//! channel (commentary, link offers). hyper over the daemon's one TLS
//! client configuration (`https://`, Discord's and discord-sim's alike).
//! The token is never logged.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

/// `User-Agent` of every REST request. Discord requires bots to send
/// `DiscordBot ($url, $versionNumber)` (discord-api-docs `reference.mdx`,
/// "User Agent": "Clients using the HTTP API must provide a valid User
/// Agent which specifies information about the client library and version
/// in the following format"); user accounts send the same, which names the
/// software honestly.
pub const USER_AGENT: &str = concat!(
    "DiscordBot (https://github.com/screenwatch/screenwatch, ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// A REST client for one account.
#[derive(Clone)]
pub struct RestClient {
    base: String,
    authorization: String,
    client: tls_client::HttpsClient<Full<Bytes>>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for `base` (e.g. `https://discord.com/api/v10`); bots send
    /// `Bot <token>`, user accounts the bare token.
    pub fn new(
        base: &str,
        token: &str,
        bot: bool,
        tls: &tls_client::TlsClient,
    ) -> Result<Self, String> {
        let client = tls.https_client(None);
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            authorization: if bot {
                format!("Bot {token}")
            } else {
                token.to_owned()
            },
            client,
        })
    }

    /// `POST /channels/{channel}/messages` with `content`; one retry after
    /// a 429's `retry_after`.
    pub async fn post_message(&self, channel: u64, content: &str) -> Result<(), String> {
        let body = serde_json::json!({ "content": content }).to_string();
        for attempt in 0..2 {
            let req = hyper::Request::post(format!("{}/channels/{channel}/messages", self.base))
                .header("authorization", &self.authorization)
                .header("content-type", "application/json")
                .header("user-agent", USER_AGENT)
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(|e| format!("request: {e}"))?;
            let resp = tokio::time::timeout(Duration::from_secs(10), self.client.request(req))
                .await
                .map_err(|_| "timed out".to_owned())?
                .map_err(|e| format!("send: {e}"))?;
            let status = resp.status().as_u16();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if status == 429 && attempt == 0 {
                let wait = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["retry_after"].as_f64())
                    .unwrap_or(1.0)
                    .clamp(0.0, 10.0);
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(());
            }
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ));
        }
        Err("rate limited twice".to_owned())
    }
}

#[cfg(test)]
mod tests {
    /// discord-api-docs `reference.mdx`, "User Agent": bots send
    /// `DiscordBot ($url, $versionNumber)`, e.g. `DiscordBot
    /// (https://github.com/discord/discord-api-docs, 1.0)`. The old value,
    /// `screenwatch (https://example.invalid, 0.1)`, was not that.
    #[test]
    fn user_agent_has_the_documented_shape() {
        let ua = super::USER_AGENT;
        let inner = ua
            .strip_prefix("DiscordBot (")
            .and_then(|r| r.strip_suffix(')'))
            .expect("DiscordBot (…)");
        let (url, version) = inner.split_once(", ").expect("url, version");
        assert!(url.starts_with("https://") && !url.contains(' '), "{url}");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
    }
}
