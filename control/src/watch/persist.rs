//! The watches control runs, kept in its SQLite file so that a restarted
//! control (after a crash or a graceful stop) takes them up again under
//! the same ids: target, requesters, transport, text channel.
//!
//! A table of its own (`watches`) in the store's file, one transaction per
//! write with `synchronous = FULL`, written off the async task; records
//! that no longer parse are skipped with a warning.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use gateway_proto::{ChannelId, StreamKey, UserId};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use watch_core::{Place, Watch, WatchId, WatchTransport};

/// One stored watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredWatch {
    /// The watch id (kept across restarts).
    pub id: u64,
    /// The guild id, or `call:<channel id>`.
    pub place: String,
    /// Whose screen.
    pub target: u64,
    /// The target's voice channel when the watch started.
    pub channel: Option<u64>,
    /// Who asked, oldest first.
    pub requesters: Vec<u64>,
    /// `native`, `webcam` or `link`.
    pub transport: String,
    /// The Go Live stream key (native).
    #[serde(default)]
    pub stream_key: Option<String>,
    /// Where commentary and offers go.
    #[serde(default)]
    pub text_channel: Option<String>,
    /// The share session feeding a link watch.
    #[serde(default)]
    pub share_session: Option<u64>,
}

impl StoredWatch {
    /// The record of `w`.
    pub fn of(w: &Watch, text_channel: Option<String>, share_session: Option<u64>) -> Self {
        let (transport, stream_key) = match w.transport {
            WatchTransport::Native { stream_key } => ("native", Some(stream_key.to_string())),
            WatchTransport::Webcam => ("webcam", None),
            WatchTransport::Link => ("link", None),
        };
        Self {
            id: w.id.0,
            place: match w.guild {
                Place::Guild(g) => g.0.to_string(),
                Place::Call(c) => format!("call:{}", c.0),
            },
            target: w.target.0,
            channel: w.channel.map(|c| c.0),
            requesters: w.requesters.iter().map(|r| r.0).collect(),
            transport: transport.into(),
            stream_key,
            text_channel,
            share_session,
        }
    }

    /// The watch again; `None` when the record does not describe one.
    pub fn to_watch(&self, now: Instant) -> Option<Watch> {
        let guild = super::parse_place(&self.place)?;
        let transport = match self.transport.as_str() {
            "native" => WatchTransport::Native {
                stream_key: StreamKey::parse(self.stream_key.as_deref()?).ok()?,
            },
            "webcam" => WatchTransport::Webcam,
            "link" => WatchTransport::Link,
            _ => return None,
        };
        if self.id == 0 || self.target == 0 || self.requesters.is_empty() {
            return None;
        }
        Some(Watch {
            id: WatchId(self.id),
            guild,
            target: UserId(self.target),
            channel: self.channel.map(ChannelId),
            requesters: self.requesters.iter().copied().map(UserId).collect(),
            transport,
            native_active: false,
            started_at: now,
        })
    }
}

/// The `watches` table of the store's file; cheap to clone.
#[derive(Clone)]
pub struct WatchStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for WatchStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WatchStore")
    }
}

impl WatchStore {
    /// Opens the table in the store file at `path` (creating it).
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        Self::init(Connection::open(path)?)
    }

    /// A table in memory (tests).
    pub fn in_memory() -> rusqlite::Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> rusqlite::Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS watches (
                 id INTEGER PRIMARY KEY,
                 record TEXT NOT NULL
             );",
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the stored watches (one transaction).
    pub fn put(&self, watches: &[StoredWatch]) -> rusqlite::Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM watches", [])?;
        {
            let mut insert = tx.prepare("INSERT INTO watches (id, record) VALUES (?1, ?2)")?;
            for w in watches {
                let record = serde_json::to_string(w)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                insert.execute(params![i64::try_from(w.id).unwrap_or(i64::MAX), record])?;
            }
        }
        tx.commit()
    }

    /// [`Self::put`] off the async task.
    pub async fn save(&self, watches: Vec<StoredWatch>) -> Result<(), String> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.put(&watches))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// Every stored watch, oldest id first.
    pub fn load(&self) -> rusqlite::Result<Vec<StoredWatch>> {
        let conn = self.lock();
        let mut q = conn.prepare("SELECT record FROM watches ORDER BY id")?;
        let rows = q.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            match serde_json::from_str(&row?) {
                Ok(w) => out.push(w),
                Err(e) => tracing::warn!(error = %e, "stored watch skipped"),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::disallowed_methods)]
    use super::*;
    use gateway_proto::GuildId;

    fn watch(id: u64, transport: WatchTransport) -> Watch {
        Watch {
            id: WatchId(id),
            guild: Place::Guild(GuildId(1)),
            target: UserId(2),
            channel: Some(ChannelId(3)),
            requesters: vec![UserId(4), UserId(5)],
            transport,
            native_active: true,
            started_at: Instant::now(),
        }
    }

    #[test]
    fn watches_survive_reopening_the_file_with_ids_transports_and_text_channels() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("control.sqlite3");
        let key = watch_core::synthesize_stream_key(GuildId(1), ChannelId(3), UserId(2));
        let native = watch(7, WatchTransport::Native { stream_key: key });
        let mut link = watch(9, WatchTransport::Link);
        link.guild = Place::Call(ChannelId(44));
        let records = vec![
            StoredWatch::of(&native, Some("600".into()), None),
            StoredWatch::of(&link, None, Some(12)),
        ];
        let store = WatchStore::open(&path).expect("open");
        store.put(&records).expect("save");
        drop(store);
        let again = WatchStore::open(&path).expect("reopen");
        let loaded = again.load().expect("load");
        assert_eq!(loaded, records);
        let now = Instant::now();
        let mut back = loaded[0].to_watch(now).expect("a watch");
        back.started_at = native.started_at;
        assert_eq!(
            back,
            Watch {
                native_active: false,
                ..native
            }
        );
        assert_eq!(loaded[1].to_watch(now).expect("a watch").guild, link.guild);
        assert_eq!(loaded[0].text_channel.as_deref(), Some("600"));
        assert_eq!(loaded[1].share_session, Some(12));
        again.put(&[]).expect("clear");
        assert!(again.load().expect("load").is_empty());
    }

    #[test]
    fn damaged_records_are_skipped_and_never_become_watches() {
        let store = WatchStore::in_memory().expect("memory");
        store
            .lock()
            .execute("INSERT INTO watches (id, record) VALUES (1, '{')", [])
            .expect("raw");
        assert!(store.load().expect("load").is_empty());
        let mut bad = StoredWatch::of(&watch(2, WatchTransport::Webcam), None, None);
        bad.transport = "carrier-pigeon".into();
        assert!(bad.to_watch(Instant::now()).is_none());
        bad.transport = "native".into();
        assert!(bad.to_watch(Instant::now()).is_none(), "no stream key");
        bad.stream_key = Some("guild:x".into());
        assert!(bad.to_watch(Instant::now()).is_none(), "bad stream key");
        bad.transport = "webcam".into();
        bad.place = "nowhere".into();
        assert!(bad.to_watch(Instant::now()).is_none());
        bad.place = "1".into();
        bad.requesters.clear();
        assert!(bad.to_watch(Instant::now()).is_none());
    }
}
