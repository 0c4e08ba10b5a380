//! Recording format: the magic `IPCTAP01`, then one record per frame:
//! `[u8 direction][u64 LE µs since epoch][u64 LE session][u32 LE length][frame bytes]`.
//! The frame bytes are exactly what crossed the socket (prefix included).

use crate::describe::{Direction, Line, describe};
use ipc_schema::frame::LEN_PREFIX;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// First bytes of every recording.
pub const MAGIC: &[u8; 8] = b"IPCTAP01";

/// Largest record accepted when reading (a frame plus its prefix).
const MAX_RECORD: usize = ipc_schema::MAX_FRAME_LEN + LEN_PREFIX;

/// Writes the header.
pub fn write_header(w: &mut impl Write) -> io::Result<()> {
    w.write_all(MAGIC)
}

/// Writes one record.
pub fn write_record(
    w: &mut impl Write,
    dir: Direction,
    time: SystemTime,
    session: u64,
    frame: &[u8],
) -> io::Result<()> {
    let micros = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let len =
        u32::try_from(frame.len()).map_err(|_| io::Error::other("frame too large to record"))?;
    w.write_all(&[dir.code()])?;
    w.write_all(&micros.to_le_bytes())?;
    w.write_all(&session.to_le_bytes())?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(frame)
}

/// Reading a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read.
    #[error("cannot read recording: {0}")]
    Io(#[from] io::Error),
    /// Not a recording.
    #[error("not an ipc-tap recording (bad magic)")]
    BadMagic,
    /// A record is malformed.
    #[error("corrupt record #{index}: {why}")]
    Corrupt {
        /// Zero-based record number.
        index: u64,
        /// What is wrong.
        why: String,
    },
}

/// Reads every record, calling `f` with each printable line. A truncated
/// final record (the tap was killed mid-write) ends reading quietly after
/// everything whole was returned.
pub fn read_records(mut r: impl Read, mut f: impl FnMut(Line)) -> Result<u64, RecordError> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)
        .map_err(|_| RecordError::BadMagic)?;
    if &magic != MAGIC {
        return Err(RecordError::BadMagic);
    }
    let mut index = 0u64;
    loop {
        let mut head = [0u8; 21];
        match read_full(&mut r, &mut head)? {
            0 => return Ok(index),
            n if n < head.len() => return Ok(index),
            _ => {}
        }
        let dir = Direction::from_code(head[0]).ok_or_else(|| RecordError::Corrupt {
            index,
            why: format!("bad direction byte {}", head[0]),
        })?;
        let micros = u64::from_le_bytes(head[1..9].try_into().unwrap_or_default());
        let session = u64::from_le_bytes(head[9..17].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(head[17..21].try_into().unwrap_or_default()) as usize;
        if !(LEN_PREFIX..=MAX_RECORD).contains(&len) {
            return Err(RecordError::Corrupt {
                index,
                why: format!("record length {len}"),
            });
        }
        let mut frame = vec![0u8; len];
        if read_full(&mut r, &mut frame)? < len {
            return Ok(index);
        }
        let time = UNIX_EPOCH + Duration::from_micros(micros);
        f(describe(time, session, dir, &frame[LEN_PREFIX..], len));
        index += 1;
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Prints a recording file.
pub fn replay(path: &Path, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let mut err = None;
    read_records(io::BufReader::new(file), |line| {
        if err.is_some() {
            return;
        }
        let text = if json {
            line.to_json().to_string()
        } else {
            line.to_text()
        };
        if let Err(e) = writeln!(out, "{text}") {
            err = Some(e);
        }
    })?;
    if let Some(e) = err {
        return Err(e.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_schema::frame::encode_to_vec;
    use ipc_schema::{ControlMsg, MediadMsg};
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut file = Vec::new();
        write_header(&mut file).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        write_record(
            &mut file,
            Direction::ToMediad,
            t,
            1,
            &encode_to_vec(&ControlMsg::Ping { nonce: 5 }).unwrap(),
        )
        .unwrap();
        write_record(
            &mut file,
            Direction::ToControl,
            t,
            1,
            &encode_to_vec(&MediadMsg::Pong { nonce: 5 }).unwrap(),
        )
        .unwrap();
        let mut lines = Vec::new();
        assert_eq!(
            read_records(&file[..], |l| lines.push(l.to_text())).unwrap(),
            2
        );
        assert!(
            lines[0].contains("control→mediad ping nonce=5"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("mediad→control pong nonce=5"),
            "{}",
            lines[1]
        );
        // A record cut short by a crash: the whole ones still come out.
        let n = read_records(&file[..file.len() - 2], |_| {}).unwrap();
        assert_eq!(n, 1);
        assert!(matches!(
            read_records(&b"NOTATAP0"[..], |_| {}),
            Err(RecordError::BadMagic)
        ));
    }

    proptest! {
        #[test]
        fn garbage_recordings_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut file = MAGIC.to_vec();
            file.extend(tail);
            let _ = read_records(&file[..], |l| { let _ = l.to_text(); let _ = l.to_json(); });
        }
    }
}
