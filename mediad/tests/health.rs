//! `mediad health` against the real binary: healthy against a running
//! mediad, a clear one-line failure against a missing socket or a socket
//! that is not mediad; and probes (connect, maybe read the Hello, hang up)
//! leave no WARN line in mediad's log, while a peer that sends garbage
//! still does.

use std::io::{Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn mediad() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediad"));
    c.env_remove("MEDIAD_SOCKET").env_remove("EXTRA_CA_FILE");
    c
}

/// A running mediad whose stderr goes to a file; killed on drop.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(socket: &Path, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).expect("log file");
        let child = mediad()
            .arg("--ipc-socket")
            .arg(socket)
            .env("RUST_LOG", "mediad=debug,info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("mediad starts");
        let daemon = Self { child, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "no socket after 20 s; log:\n{}",
                daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log has `n` lines containing `needle`.
    fn wait_for(&self, needle: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = self.log_text();
            if text.lines().filter(|l| l.contains(needle)).count() >= n {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {n} lines with {needle:?}; log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PROBE: &str = "hung up before sending anything";

#[test]
fn health_is_ok_against_a_running_mediad_and_probes_leave_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("mediad.sock");
    let daemon = Daemon::start(&socket, dir.path().join("mediad.log"));

    // By flag, and through MEDIAD_SOCKET as in the container.
    let out = mediad()
        .args(["health", "--ipc-socket"])
        .arg(&socket)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with(&format!("healthy: mediad on {}", socket.display())),
        "{stdout}"
    );
    let out = mediad()
        .arg("health")
        .env("MEDIAD_SOCKET", &socket)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));

    // Two raw probes: one hangs up at once, one after reading the Hello's
    // first bytes (the unread rest makes mediad see a reset).
    drop(UnixStream::connect(&socket).unwrap());
    let mut s = UnixStream::connect(&socket).unwrap();
    let mut prefix = [0u8; 4];
    s.read_exact(&mut prefix).unwrap();
    drop(s);

    let log = daemon.wait_for(PROBE, 4);
    assert!(
        !log.lines().any(|l| l.contains("WARN")),
        "a probe was logged as a warning:\n{log}"
    );

    // A peer that does send something that is not a hello is still
    // refused with a WARN, in the same log: the silence above is not a
    // missing log.
    let mut s = UnixStream::connect(&socket).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let _ = s.read_to_end(&mut Vec::new());
    let log = daemon.wait_for("refused a control connection", 1);
    let warns: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warns.len(), 1, "{log}");
    assert!(warns[0].contains("refused a control connection"), "{log}");

    // mediad is still healthy after all that.
    let out = mediad()
        .args(["health", "--ipc-socket"])
        .arg(&socket)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
}

#[test]
fn health_fails_with_one_clear_line_when_there_is_no_mediad() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sock");
    let out = mediad()
        .args(["health", "--ipc-socket"])
        .arg(&missing)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "unhealthy: cannot connect to {}",
            missing.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("No such file"), "{stderr}");

    // A socket whose owner accepts but never speaks is not a mediad.
    let silent = dir.path().join("silent.sock");
    let listener = UnixListener::bind(&silent).unwrap();
    let holder = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let t0 = Instant::now();
    let out = mediad()
        .args(["health", "--timeout-secs", "0.5", "--ipc-socket"])
        .arg(&silent)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("unhealthy: no Hello from"), "{stderr}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    drop(holder.join());

    // Something that answers with a non-mediad frame is named as such.
    let other = dir.path().join("other.sock");
    let listener = UnixListener::bind(&other).unwrap();
    let talker = std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.write_all(&[0xff, 0xff, 0xff, 0xff]);
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let out = mediad()
        .args(["health", "--ipc-socket"])
        .arg(&other)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a mediad"), "{stderr}");
    talker.join().unwrap();
}
