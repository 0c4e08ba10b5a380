//! control's durable state: one SQLite file under the data dir holding the
//! live share sessions (a restart keeps every link valid), the
//! `voice.streamWatch` settings and the watch recaps.
//!
//! Every write is one transaction with `synchronous = FULL`, so a crash
//! loses nothing a caller was told is saved. The file is created 0600: it
//! holds live share tokens (the capabilities in the links). Calls block on
//! SQLite; the async wrappers run them on the blocking pool so no task
//! that keeps a socket alive waits on the disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data dir or file could not be created or opened.
    #[error("cannot open the store at {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored record no longer parses (skipped on load).
    #[error("store record: {0}")]
    Record(#[from] serde_json::Error),
    /// The file was written by a newer control.
    #[error("store schema version {found} is newer than this control's {supported}")]
    TooNew {
        /// In the file.
        found: i64,
        /// What this build understands.
        supported: i64,
    },
    /// The blocking task died.
    #[error("store task failed: {0}")]
    Task(String),
    /// The file exists but is damaged (empty, not a database, or failing
    /// SQLite's integrity check): control refuses to start over it rather
    /// than silently beginning with no links and default settings.
    #[error(
        "the store file {path} is damaged ({detail}); control will not start over it. \
         To begin again with no share links and default settings, move it aside \
         (mv {path} {path}.damaged, and its -wal and -shm files if present) and restart"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
}

impl StoreError {
    /// Recovery policy: whether control can carry on without this write
    /// (in-memory state stays right; only durability is lost) rather than
    /// refusing the request that needed it.
    pub fn is_degraded_only(&self) -> bool {
        !matches!(
            self,
            Self::Open { .. } | Self::TooNew { .. } | Self::Damaged { .. }
        )
    }
}

/// A watch recap, as saved when the watch ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecapRecord {
    /// Row id (0 before saving).
    pub id: i64,
    /// The watch.
    pub watch_id: u64,
    /// Guild (0 when unknown); a decimal string in JSON, like every id.
    #[schema(value_type = String)]
    pub guild_id: ipc_schema::GuildId,
    /// Watched user; a decimal string in JSON.
    #[schema(value_type = String)]
    pub target_id: ipc_schema::UserId,
    /// Their display name.
    pub target_name: String,
    /// Unix milliseconds when the watch ended.
    pub ended_at_ms: u64,
    /// Why it ended.
    pub reason: String,
    /// The recap text.
    pub summary: String,
    /// The notes it was made from, oldest first.
    pub notes: Vec<String>,
}

/// One stored share session and what control needs beside it after a
/// restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredShare {
    /// The session record (share-core's own).
    pub session: share_core::ShareSession,
    /// Where the watch it arms posts commentary.
    #[serde(default)]
    pub text_channel_id: Option<u64>,
}

const SCHEMA_VERSION: i64 = 1;

/// The store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// `path` with `suffix` appended (SQLite's `-wal` / `-shm` names).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// SQLite's quick check over the whole file, then a read of every row
/// the store keeps: `Err` says what is wrong.
fn check_integrity(conn: &Connection) -> Result<(), String> {
    let mut q = conn
        .prepare("PRAGMA quick_check")
        .map_err(|e| e.to_string())?;
    let problems: Vec<String> = q
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    if problems.iter().any(|p| p != "ok") {
        let mut detail = problems.into_iter().take(3).collect::<Vec<_>>().join("; ");
        detail.insert_str(0, "integrity check: ");
        return Err(detail);
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) `control.sqlite3` in `dir`.
    ///
    /// An existing file is never silently replaced: one that is empty,
    /// not a database, or fails SQLite's quick check is refused with
    /// [`StoreError::Damaged`] naming the file and how to recover. An
    /// empty main file whose WAL still holds the data is recovered from
    /// the WAL, with a warning. Every error names the file.
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("control.sqlite3");
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(open_err)?;
        let wal = sidecar(&path, "-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        // `None`: the file is new (created here, 0600, before SQLite
        // touches it).
        let existing_len = match std::fs::metadata(&path) {
            Ok(m) => Some(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(open_err)?;
                None
            }
            Err(e) => return Err(open_err(e)),
        };
        let damaged = |detail: String| StoreError::Damaged {
            path: path.clone(),
            detail,
        };
        // SQLite reads an empty main file as a new database whatever its
        // WAL holds, so it is refused before SQLite opens it (which leaves
        // the WAL untouched for whoever recovers it by hand).
        if existing_len == Some(0) {
            return Err(damaged(if wal_len == 0 {
                "the file is empty (zero bytes) and no WAL is left to recover from".into()
            } else {
                format!(
                    "the file is empty (zero bytes); its WAL ({wal_len} bytes) cannot be replayed without it"
                )
            }));
        }
        // Whether the main file starts as a database does; when it does
        // not, only the WAL can supply the contents.
        let header_ok = existing_len.is_none() || {
            use std::io::Read;
            let mut head = [0u8; 16];
            std::fs::File::open(&path)
                .and_then(|mut f| f.read_exact(&mut head))
                .is_ok_and(|()| &head == b"SQLite format 3\0")
        };
        let named = |e: rusqlite::Error| damaged(e.to_string());
        let conn = Connection::open(&path).map_err(named)?;
        if existing_len.is_some() {
            // An existing file must already be a store: version 0 here
            // means its contents are gone (init would create empty tables).
            let version: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(named)?;
            if version < 1 {
                return Err(damaged(format!(
                    "it holds no store schema (user_version {version}; {} bytes, WAL {wal_len} bytes)",
                    existing_len.unwrap_or(0)
                )));
            }
            check_integrity(&conn).map_err(damaged)?;
        }
        let store = match Self::init(conn, Some(path.clone())) {
            Ok(s) => s,
            Err(StoreError::Sqlite(e)) => return Err(named(e)),
            Err(e) => return Err(e),
        };
        if existing_len.is_some() && !header_ok {
            tracing::warn!(
                path = %path.display(),
                main_bytes = existing_len.unwrap_or(0),
                wal_bytes = wal_len,
                "the store's main file was empty or damaged; recovered its contents from the WAL"
            );
        }
        Ok(store)
    }

    /// A store that lives in memory (tests, or no data dir).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, None)
    }

    /// The file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn init(conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS share_sessions (
                     token TEXT PRIMARY KEY,
                     expires_at_ms INTEGER NOT NULL,
                     record TEXT NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS settings (
                     name TEXT PRIMARY KEY,
                     value TEXT NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS recaps (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     watch_id INTEGER NOT NULL,
                     guild_id INTEGER NOT NULL,
                     target_id INTEGER NOT NULL,
                     target_name TEXT NOT NULL,
                     ended_at_ms INTEGER NOT NULL,
                     reason TEXT NOT NULL,
                     summary TEXT NOT NULL,
                     notes TEXT NOT NULL
                 );
                 PRAGMA user_version = 1;
                 COMMIT;",
            )?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    // --- share sessions ---

    /// Replaces the stored share sessions with `sessions` (one
    /// transaction: the file always holds one consistent set).
    pub fn put_share_sessions(&self, sessions: &[StoredShare]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM share_sessions", [])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO share_sessions (token, expires_at_ms, record) VALUES (?1, ?2, ?3)",
            )?;
            for s in sessions {
                let record = serde_json::to_string(s)?;
                let expires = i64::try_from(s.session.expires_at.0).unwrap_or(i64::MAX);
                insert.execute(params![s.session.token.reveal(), expires, record])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// [`Self::put_share_sessions`] off the async task.
    pub async fn save_share_sessions(&self, sessions: Vec<StoredShare>) -> Result<(), StoreError> {
        self.blocking(move |s| s.put_share_sessions(&sessions))
            .await
    }

    /// Every stored share session; records that no longer parse are
    /// skipped with a warning (they cannot be served anyway).
    pub fn share_sessions(&self) -> Result<Vec<StoredShare>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare("SELECT record FROM share_sessions ORDER BY rowid")?;
        let rows = q.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            match serde_json::from_str(&row?) {
                Ok(s) => out.push(s),
                Err(e) => tracing::warn!(error = %e, "stored share session skipped"),
            }
        }
        Ok(out)
    }

    // --- settings ---

    /// The stored `voice.streamWatch` object, if any.
    pub fn settings_json(&self) -> Result<Option<serde_json::Value>, StoreError> {
        let conn = self.lock();
        let raw: Option<String> = conn
            .query_row(
                "SELECT value FROM settings WHERE name = 'voice.streamWatch'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match raw {
            Some(raw) => Some(serde_json::from_str(&raw)?),
            None => None,
        })
    }

    /// Stores the `voice.streamWatch` object.
    pub fn put_settings_json(&self, value: &serde_json::Value) -> Result<(), StoreError> {
        let raw = serde_json::to_string(value)?;
        self.lock().execute(
            "INSERT INTO settings (name, value) VALUES ('voice.streamWatch', ?1)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![raw],
        )?;
        Ok(())
    }

    /// [`Self::put_settings_json`] off the async task.
    pub async fn save_settings_json(&self, value: serde_json::Value) -> Result<(), StoreError> {
        self.blocking(move |s| s.put_settings_json(&value)).await
    }

    // --- recaps ---

    /// Saves a recap; returns its row id.
    pub fn put_recap(&self, r: &RecapRecord) -> Result<i64, StoreError> {
        let conn = self.lock();
        let notes = serde_json::to_string(&r.notes)?;
        conn.execute(
            "INSERT INTO recaps (watch_id, guild_id, target_id, target_name, ended_at_ms, reason, summary, notes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                i64::try_from(r.watch_id).unwrap_or(i64::MAX),
                i64::try_from(r.guild_id.get()).unwrap_or(i64::MAX),
                i64::try_from(r.target_id.get()).unwrap_or(i64::MAX),
                r.target_name,
                i64::try_from(r.ended_at_ms).unwrap_or(i64::MAX),
                r.reason,
                r.summary,
                notes
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// [`Self::put_recap`] off the async task.
    pub async fn save_recap(&self, r: RecapRecord) -> Result<i64, StoreError> {
        self.blocking(move |s| s.put_recap(&r)).await
    }

    /// The newest `limit` recaps, newest first.
    pub fn recaps(&self, limit: usize) -> Result<Vec<RecapRecord>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare(
            "SELECT id, watch_id, guild_id, target_id, target_name, ended_at_ms, reason, summary, notes
             FROM recaps ORDER BY id DESC LIMIT ?1",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = q.query_map(params![limit], |r| {
            let u = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
            Ok((
                RecapRecord {
                    id: r.get(0)?,
                    watch_id: u(1)?,
                    guild_id: u(2)?.into(),
                    target_id: u(3)?.into(),
                    target_name: r.get(4)?,
                    ended_at_ms: u(5)?,
                    reason: r.get(6)?,
                    summary: r.get(7)?,
                    notes: Vec::new(),
                },
                r.get::<_, String>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut rec, notes) = row?;
            rec.notes = serde_json::from_str(&notes).unwrap_or_default();
            out.push(rec);
        }
        Ok(out)
    }

    /// [`Self::recaps`] off the async task.
    pub async fn load_recaps(&self, limit: usize) -> Result<Vec<RecapRecord>, StoreError> {
        self.blocking(move |s| s.recaps(limit)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use share_core::ShareToken;

    fn session(n: u8) -> StoredShare {
        let token = ShareToken::from_random_bytes([n; 18]);
        let session = serde_json::from_value(serde_json::json!({
            "id": u64::from(n),
            "token": token.reveal(),
            "guild": 1, "channel": 2, "requester": 3, "target": 4,
            "createdAt": 1_000, "expiresAt": 2_000,
            "lastFrameAt": null, "framesAccepted": 0
        }))
        .expect("record");
        StoredShare {
            session,
            text_channel_id: Some(u64::from(n) + 10),
        }
    }

    #[test]
    fn share_sessions_survive_reopening_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open_dir(dir.path()).expect("open");
        store
            .put_share_sessions(&[session(1), session(2)])
            .expect("save");
        store.put_share_sessions(&[session(2)]).expect("replace");
        drop(store);
        let again = Store::open_dir(dir.path()).expect("reopen");
        assert_eq!(again.share_sessions().expect("load"), vec![session(2)]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("control.sqlite3"))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the file holds live tokens");
    }

    #[test]
    fn settings_and_recaps_round_trip() {
        let store = Store::in_memory().expect("memory");
        assert_eq!(store.settings_json().expect("none"), None);
        let v = serde_json::json!({"maxFrameBytes": 60000});
        store.put_settings_json(&v).expect("save");
        store
            .put_settings_json(&serde_json::json!({"maxFrameBytes": 70000}))
            .expect("update");
        assert_eq!(
            store.settings_json().expect("load"),
            Some(serde_json::json!({"maxFrameBytes": 70000}))
        );
        let mut r = RecapRecord {
            id: 0,
            watch_id: 7,
            guild_id: 1.into(),
            target_id: 2.into(),
            target_name: "Alice".into(),
            ended_at_ms: 5,
            reason: "stopped".into(),
            summary: "Alice edited a spreadsheet.".into(),
            notes: vec!["a".into(), "b".into()],
        };
        r.id = store.put_recap(&r).expect("saved");
        let mut second = r.clone();
        second.watch_id = 8;
        second.id = store.put_recap(&second).expect("saved");
        assert_eq!(store.recaps(10).expect("load"), vec![second, r]);
    }

    #[test]
    fn a_newer_schema_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().expect("dir");
        drop(Store::open_dir(dir.path()).expect("open"));
        let conn = Connection::open(dir.path().join("control.sqlite3")).expect("raw");
        conn.pragma_update(None, "user_version", 9).expect("bump");
        drop(conn);
        let err = Store::open_dir(dir.path()).expect_err("too new");
        assert!(
            err.to_string().contains('9') && err.to_string().contains('1'),
            "{err}"
        );
        assert!(!err.is_degraded_only());
    }

    /// A store whose data is still only in its WAL, as control leaves it
    /// when killed: the files are copied while the connection is open.
    fn crashed_copy(dir: &Path) -> tempfile::TempDir {
        let store = Store::open_dir(dir).expect("open");
        store.put_share_sessions(&[session(5)]).expect("save");
        store
            .put_settings_json(&serde_json::json!({"maxFrameBytes": 70000}))
            .expect("settings");
        let copy = tempfile::tempdir().expect("copy dir");
        for name in ["control.sqlite3", "control.sqlite3-wal"] {
            std::fs::copy(dir.join(name), copy.path().join(name)).expect("copy");
        }
        drop(store);
        copy
    }

    fn assert_refused_naming_the_file(err: &StoreError, dir: &Path) {
        let text = err.to_string();
        let file = dir.join("control.sqlite3");
        assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains("move it aside"), "{text}");
        assert!(!err.is_degraded_only());
    }

    /// A zero-length file used to open as a fresh store: links and
    /// settings gone with an INFO line. Now control refuses it, naming the
    /// file and the way out, and leaves it as it was.
    #[test]
    fn a_zero_length_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("control.sqlite3");
        std::fs::write(&file, b"").expect("empty file");
        let err = Store::open_dir(dir.path()).expect_err("an empty file is damage");
        assert_refused_naming_the_file(&err, dir.path());
        assert_eq!(std::fs::metadata(&file).expect("kept").len(), 0);
    }

    /// A main file overwritten with garbage, its WAL left behind holding
    /// every page: the contents come back from the WAL (logged as a WARN,
    /// the header being gone) and pass the integrity check; never a fresh
    /// store on default settings.
    #[test]
    fn a_garbage_main_file_with_its_wal_is_recovered_from_the_wal() {
        let dir = tempfile::tempdir().expect("dir");
        let copy = crashed_copy(dir.path());
        let file = copy.path().join("control.sqlite3");
        let len = std::fs::metadata(&file).expect("main").len();
        std::fs::write(
            &file,
            vec![0xA5u8; usize::try_from(len).expect("len").max(4096)],
        )
        .expect("garbage");
        let store = Store::open_dir(copy.path()).expect("recovered from the WAL");
        assert_eq!(store.share_sessions().expect("load"), vec![session(5)]);
        assert_eq!(
            store.settings_json().expect("settings"),
            Some(serde_json::json!({"maxFrameBytes": 70000}))
        );
    }

    /// A main file overwritten with garbage and no WAL: refused, named.
    #[test]
    fn a_garbage_main_file_without_a_wal_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("control.sqlite3"), vec![0xA5u8; 8192]).expect("garbage");
        let err = Store::open_dir(dir.path()).expect_err("garbage is damage");
        assert_refused_naming_the_file(&err, dir.path());
    }

    /// A damaged page inside an otherwise valid file (header intact):
    /// SQLite's quick check finds it and control refuses to start.
    #[test]
    fn a_damaged_page_is_found_at_open() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let store = Store::open_dir(dir.path()).expect("open");
            let many: Vec<StoredShare> = (1..=60).map(session).collect();
            store.put_share_sessions(&many).expect("save");
            store
                .lock()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .expect("checkpoint");
        }
        let file = dir.path().join("control.sqlite3");
        let mut bytes = std::fs::read(&file).expect("read");
        assert!(bytes.len() >= 3 * 4096, "several pages: {}", bytes.len());
        // Every page after the first two: B-tree pages of the tables.
        for b in &mut bytes[2 * 4096..] {
            *b = 0x5A;
        }
        std::fs::write(&file, &bytes).expect("damage");
        let _ = std::fs::remove_file(dir.path().join("control.sqlite3-wal"));
        let err = Store::open_dir(dir.path()).expect_err("damaged pages");
        assert_refused_naming_the_file(&err, dir.path());
    }

    /// An empty main file whose WAL still holds every write (SQLite cannot
    /// replay a WAL without its main file): refused naming the file, the
    /// WAL left byte for byte as it was. The old store opened it as a fresh
    /// empty store.
    #[test]
    fn an_empty_main_file_with_its_wal_is_refused_and_the_wal_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let copy = crashed_copy(dir.path());
        std::fs::write(copy.path().join("control.sqlite3"), b"").expect("truncate");
        let wal = copy.path().join("control.sqlite3-wal");
        let before = std::fs::read(&wal).expect("wal");
        assert!(!before.is_empty());
        let err = Store::open_dir(copy.path()).expect_err("empty main file");
        assert_refused_naming_the_file(&err, copy.path());
        assert!(err.to_string().contains("WAL"), "{err}");
        assert_eq!(std::fs::read(&wal).expect("wal kept"), before);
    }

    /// A crash copy (data only in the WAL) opens with everything in it.
    #[test]
    fn a_crashed_store_opens_with_its_wal() {
        let dir = tempfile::tempdir().expect("dir");
        let copy = crashed_copy(dir.path());
        let store = Store::open_dir(copy.path()).expect("reopen");
        assert_eq!(store.share_sessions().expect("load"), vec![session(5)]);
    }

    #[test]
    fn a_corrupt_record_is_skipped_not_fatal() {
        let store = Store::in_memory().expect("memory");
        store.put_share_sessions(&[session(3)]).expect("save");
        store
            .lock()
            .execute(
                "INSERT INTO share_sessions (token, expires_at_ms, record) VALUES ('x', 0, '{')",
                [],
            )
            .expect("raw insert");
        assert_eq!(store.share_sessions().expect("load"), vec![session(3)]);
    }
}
